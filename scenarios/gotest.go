package scenarios

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/reports"
)

// Run is the `go test` API: it runs one scenario in a fresh lab and reports
// each invariant as a subtest, so a user's test file can say
//
//	scenarios.Run(t, scenarios.Config{Seed: 1}, catalogue.ProviderCrash)
//
// For a negative control the subtests of the expected invariants pass when
// those invariants failed: the checker caught the broken setup.
func Run(t *testing.T, cfg Config, spec Spec) Result {
	t.Helper()
	cfg = testConfig(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Execute(ctx, spec, cfg)
	expectVerdicts(t, spec(), res, err)
	return res
}

// RunAll is Run for several scenarios, parallel of them at once, each lab
// on its own lane (see Suite.Parallel); each scenario then becomes a
// subtest named after it, in the order given, with its invariants as
// subtests of their own.
func RunAll(t *testing.T, cfg Config, parallel int, specs ...Spec) []Result {
	t.Helper()
	cfg = testConfig(t, cfg)
	results := make([]Result, len(specs))
	errs := make([]error, len(specs))
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	plan := newLanePlan(specs, parallel, 0, cfg.Open != nil, cfg.Duration)
	cfg, done := withPairPool(wctx, cfg, specs, min(plan.heavyMax, max(plan.parallel, 1)))
	defer done()
	onLanes(context.Background(), len(specs), plan, func(i, lane int) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		c := cfg
		c.Base.Lane = lane
		results[i], errs[i] = Execute(ctx, specs[i], c)
	})
	for i, spec := range specs {
		sc := spec()
		t.Run(sc.Name, func(t *testing.T) { expectVerdicts(t, sc, results[i], errs[i]) })
	}
	return results
}

// expectVerdicts turns one executed scenario into subtests: good setups
// must pass every invariant, a negative control must fail the ones it
// names.
func expectVerdicts(t *testing.T, sc Scenario, res Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("scenario %s could not be judged: %v", sc.Name, err)
	}
	expect := map[string]bool{}
	for _, n := range sc.ExpectFail {
		expect[n] = true
	}
	for _, inv := range res.Report.Invariants {
		inv := inv
		t.Run(inv.Name, func(t *testing.T) {
			msg := fmt.Sprintf("%s: %s\n%s", inv.Name, inv.Summary, strings.Join(inv.Evidence, "\n"))
			switch {
			case expect[inv.Name] && inv.Verdict != reports.Fail:
				t.Errorf("negative control %s: invariant %s should have failed but was %s: %s", sc.Name, inv.Name, inv.Verdict, inv.Summary)
			case expect[inv.Name]:
				t.Logf("caught as expected: %s", msg)
			case sc.Negative:
				t.Logf("%s (not judged in this negative control): %s", inv.Verdict, inv.Summary)
			case inv.Verdict == reports.Fail:
				t.Errorf("invariant failed: %s", msg)
			case inv.Verdict == reports.Skip:
				t.Skipf("skipped: %s", inv.Summary)
			}
		})
	}
	for name := range expect {
		found := false
		for _, inv := range res.Report.Invariants {
			found = found || inv.Name == name
		}
		if !found {
			t.Errorf("negative control %s expects invariant %s to fail, but it was not judged", sc.Name, name)
		}
	}
}

// testConfig fills in what a test leaves out: a run id, and a logger that
// sends the lab's warnings (backends marked down, store failures) to the
// test log, shown for a failing scenario or with -v.
func testConfig(t *testing.T, cfg Config) Config {
	if cfg.RunID == "" {
		cfg.RunID = fmt.Sprintf("t%d", time.Now().UnixNano()%1_000_000_000)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return cfg
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
