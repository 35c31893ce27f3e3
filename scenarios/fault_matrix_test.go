package scenarios

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// matrixEnv is the lab of one fault-matrix case; before the lab closes it
// notes whatever is still broken: a wire cut or carrying a toxic, a
// replica not running or still delayed.
type matrixEnv struct {
	*labEnv
	left *[]string
}

func (e matrixEnv) Close(ctx context.Context) error {
	*e.left = stillBroken(ctx, e.lab)
	return e.labEnv.Close(ctx)
}

func stillBroken(ctx context.Context, lab *harness.Lab) []string {
	var out []string
	if lab.BalancerStopped() {
		out = append(out, "balancer stopped")
	}
	for _, s := range lab.LinkStates() {
		if s.Broken() {
			out = append(out, fmt.Sprintf("link %s: cut %t, toxics %v", s.Name, s.Cut, s.Toxics))
		}
	}
	if pair := lab.Pair(); pair != nil {
		st, err := pair.Status(ctx)
		if err != nil {
			return append(out, "replica status: "+err.Error())
		}
		for _, s := range st.Sides {
			if !s.IORunning || !s.SQLRunning {
				out = append(out, fmt.Sprintf("side %s: replica not running (IO %s, SQL running %t)", s.Side, s.IOState, s.SQLRunning))
			}
			if s.SQLDelay != 0 {
				out = append(out, fmt.Sprintf("side %s: MASTER_DELAY still %d s", s.Side, s.SQLDelay))
			}
		}
	}
	return out
}

// matrixBackend is the MariaDB pair's backend for the database and
// replication cases: REGIFY_VERIFY_DB_BACKEND (docker or process) when
// set, else two local mariadbd processes when MariaDB is installed — up in
// about a second instead of three to six for the containers, and the link
// faults act on the harness's own wires, which are the same for both
// (replication-cut's docker path runs in the catalogue's
// replication-cut-and-heal) — else the lab's default.
func matrixBackend() string {
	if b := os.Getenv("REGIFY_VERIFY_DB_BACKEND"); b != "" {
		return b
	}
	if _, err := exec.LookPath("mariadbd"); err == nil {
		return harness.BackendProcess
	}
	if _, err := os.Stat("/usr/sbin/mariadbd"); err == nil {
		return harness.BackendProcess
	}
	return ""
}

// TestFaultMatrix runs every link fault on every link class it acts on in
// a short lab scenario (4 users, 40 requests/s, 4.5 s; the fault at 1 s
// for 2 s) and checks that it took effect — the run is not incomplete for
// it and its window says what was seen — and that nothing stays broken
// after the run; a last control case never recovers its fault and must
// be seen to leave it. The cases run side by side (onLanes, as a run
// does); the pair comes up for the database
// and replication links (matrixBackend). REGIFY_VERIFY_MATRIX_HISTORY=dir
// keeps each case's history there.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab per case; skipped with -short")
	}
	cases := []struct {
		spec   string // a --fault spec; at=1s,for=2s is added
		effect string // what its window's effect must say
		// left, for the control case: the fault is never recovered
		// (faults.Permanent) and what stays broken must be seen.
		left string
	}{
		// cut both ways (link-cut on the balancer: catalogue link-cut)
		{spec: "link-cut:link=database,provider=p1", effect: "took effect"},
		{spec: "link-cut:link=clearing,clearing=0", effect: "not checked: a cut clearing connection"},
		{spec: "link-cut:link=replication", effect: "took effect"},
		// reset (on the balancer: catalogue link-reset)
		{spec: "link-reset:link=database,provider=p2", effect: "took effect"},
		{spec: "link-reset:link=clearing,after=200ms", effect: "took effect"},
		// one way (request on the balancer: catalogue link-blackhole)
		{spec: "link-oneway:link=balancer,provider=p1,direction=response", effect: "took effect"},
		{spec: "link-oneway:link=database,provider=p1,direction=request", effect: "took effect"},
		{spec: "link-oneway:link=clearing,direction=request", effect: "took effect"},
		{spec: "link-oneway:link=replication,direction=a-to-b", effect: "took effect"},
		// latency with jitter
		{spec: "link-latency:link=balancer,provider=p1,latency=300ms,latency_jitter=100ms", effect: "took effect"},
		{spec: "link-latency:link=database,provider=p2,latency=100ms,latency_jitter=20ms", effect: "took effect"},
		{spec: "link-latency:link=clearing,latency=200ms,latency_jitter=50ms", effect: "took effect"},
		{spec: "link-latency:link=replication,latency=1s", effect: "took effect"},
		// bandwidth
		{spec: "link-bandwidth:link=balancer,provider=p2,rate=2", effect: "took effect"},
		{spec: "link-bandwidth:link=database,provider=p1,rate=2", effect: "took effect"},
		{spec: "link-bandwidth:link=clearing,rate=1", effect: "took effect"},
		// slicing
		{spec: "link-slice:link=balancer,provider=p1", effect: "took effect"},
		{spec: "link-slice:link=database,provider=p2", effect: "took effect"},
		{spec: "link-slice:link=clearing", effect: "took effect"},
		// the balancer itself
		{spec: "balancer-restart", effect: "took effect: "},
		{spec: "balancer-restart", effect: "took effect: ", left: "balancer stopped"},
		// control: the check for leftovers sees a toxic left on
		{spec: "link-latency:link=balancer,provider=p2,latency=100ms", effect: "took effect", left: "toxics [link-latency]"},
	}
	backend := matrixBackend()
	t.Logf("database backend %q", backend)
	start := time.Now()
	// The cases run side by side (each lab on its lane, the ones with the
	// pair at most DefaultDatabaseParallel at once), then each is judged
	// in its own subtest.
	type outcome struct {
		res  Result
		err  error
		left []string
		took time.Duration
	}
	outs := make([]outcome, len(cases))
	specs := make([]Spec, len(cases))
	for i, tc := range cases {
		sep := ","
		if !strings.Contains(tc.spec, ":") {
			sep = ":"
		}
		st, _, err := ParseStep(tc.spec + sep + "at=1s,for=2s")
		require.NoError(t, err, tc.spec)
		if tc.left != "" {
			st.Fault = faults.Permanent{Fault: st.Fault}
		}
		sc := Scenario{
			Name: fmt.Sprintf("fault-matrix-%02d", i), Description: "test: " + tc.spec,
			// Eight users, so that several land on each provider: with
			// four, one provider once had a single client, and a fault
			// on its link could not be seen to bite.
			Users: 8, Rate: 40, Duration: 4500 * time.Millisecond,
			Faults:        []Step{st},
			NeedsDatabase: faults.NeedsDatabase(st.Fault),
			ConvergeBound: 10 * time.Second,
		}
		specs[i] = func() Scenario { return sc }
	}
	onLanes(context.Background(), len(cases), newLanePlan(specs, DefaultParallel(), 0, false, 0), func(i, lane int) {
		began := time.Now()
		o := &outs[i]
		lab := LabOpener(harness.Options{Lane: lane, DB: harness.PairOptions{Backend: backend}})
		open := func(ctx context.Context, sc Scenario, users int) (Environment, error) {
			env, err := lab(ctx, sc, users)
			if err != nil {
				return nil, err
			}
			return matrixEnv{labEnv: env.(*labEnv), left: &o.left}, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		o.res, o.err = Execute(ctx, specs[i], Config{Seed: int64(i + 1), RunID: fmt.Sprintf("matrix-%d", i), Open: open, HistoryDir: os.Getenv("REGIFY_VERIFY_MATRIX_HISTORY")})
		o.took = time.Since(began)
	})
	for i, tc := range cases {
		name := strings.NewReplacer(":", " ", ",", " ").Replace(tc.spec)
		if tc.left != "" {
			name += " never recovered"
		}
		t.Run(name, func(t *testing.T) {
			o := outs[i]
			require.NoError(t, o.err)
			rep := o.res.Report
			require.Empty(t, rep.Error)
			for _, why := range rep.NotJudged {
				assert.NotContains(t, why, "did not take effect")
			}
			require.Len(t, rep.Faults, 1)
			assert.Contains(t, rep.Faults[0].Effect, tc.effect)
			require.Len(t, o.res.History.Faults, 1)
			rec := o.res.History.Faults[0]
			assert.Empty(t, rec.Err, "injected cleanly")
			assert.False(t, rec.Recovered.IsZero(), "recovered")
			if tc.left != "" {
				assert.Contains(t, strings.Join(o.left, "; "), tc.left, "a fault never recovered is seen")
			} else {
				assert.Empty(t, o.left, "nothing stays injected after the run")
			}
			t.Logf("%s on %s (%s): %s", rec.Name, rec.Target, o.took.Round(100*time.Millisecond), rep.Faults[0].Effect)
		})
	}
	t.Logf("%d cases in %s", len(cases), time.Since(start).Round(time.Second))
}
