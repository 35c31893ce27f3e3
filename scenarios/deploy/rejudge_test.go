package deploy

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/internal/pki"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
)

// Addresses of this test: apart from the lab's and this package's other tests.
const (
	judgeProviderIP = "127.0.7.1"
	judgeClients    = "127.0.11.1-127.0.11.3"
)

// checkRun runs 'regify-verify check' (Check) against one fake
// provider serving abc.test over TLS, with one harmless fault hook, and
// returns the report and the directory of its histories.
func checkRun(t *testing.T) (*reports.Report, string) {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("judge-test")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o600))
	leaf, err := ca.Issue([]string{"abc.test"}, nil, 30*24*time.Hour)
	require.NoError(t, err)
	p, err := fakeprovider.New(fakeprovider.Config{ID: "p1", Tenants: []string{"abc.test"},
		TLS: map[string]tls.Certificate{"abc.test": leaf.TLS}, ShowSeen: true, Store: fakeprovider.NewMemoryStore()})
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), fakeprovider.Bind{Addr: judgeProviderIP + ":0", Tenant: "abc.test"}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	port := p.Addrs()[0][strings.LastIndexByte(p.Addrs()[0], ':')+1:]
	file := filepath.Join(dir, "deployment.yaml")
	require.NoError(t, os.WriteFile(file, fmt.Appendf(nil, `name: staging
domains:
  - name: abc.test
    https: https://abc.test:%s/
    address: %s
tls:
  ca_file: ca.pem
clients:
  source_ips: %s
load:
  users: 3
  rate: 30
  duration: 1s
faults:
  - name: noop
    inject: "true"
    recover: "true"
    provider: p1
    hold: 1s
`, port, judgeProviderIP, judgeClients), 0o600))
	d, err := Load(file)
	require.NoError(t, err)
	hdir := filepath.Join(dir, "history")
	require.NoError(t, os.MkdirAll(hdir, 0o755))
	rep, err := Check(context.Background(), d, Options{Seed: 7, AllowFaults: true, HistoryDir: hdir})
	require.NoError(t, err)
	return rep, hdir
}

// TestRejudge: the histories of a target-mode run are judged again
// with the invariants of its report and give the same verdicts.
func TestRejudge(t *testing.T) {
	rep, hdir := checkRun(t)
	hs, err := scenarios.ReadHistories(hdir)
	require.NoError(t, err)
	require.Len(t, hs, 2, "one history for the baseline, one for the fault hook")

	byName := map[string]reports.Scenario{}
	for _, sc := range rep.Scenarios {
		byName[sc.Name] = sc
	}
	again := &reports.Report{RunID: rep.RunID, Seed: rep.Seed, Mode: rep.Mode}
	for _, h := range hs {
		_, err := scenarios.Judge(h, func(name string) (scenarios.Spec, error) { return nil, fmt.Errorf("unknown scenario %q", name) })
		require.ErrorContains(t, err, "report.json", "a target history is not a catalogue scenario")
		orig, ok := byName[h.Meta.Scenario]
		require.True(t, ok, "report has no scenario %q", h.Meta.Scenario)
		sc, err := Rejudge(h, orig)
		require.NoError(t, err)
		again.Scenarios = append(again.Scenarios, sc)
	}
	again.Finish()
	assert.Equal(t, rep.Verdict, again.Verdict)
	require.Len(t, again.Scenarios, len(rep.Scenarios))
	for _, sc := range again.Scenarios {
		orig := byName[sc.Name]
		assert.Equal(t, orig.Verdict, sc.Verdict, "scenario %s", sc.Name)
		require.Len(t, sc.Invariants, len(orig.Invariants), "scenario %s", sc.Name)
		for i, inv := range sc.Invariants {
			assert.Equal(t, orig.Invariants[i].Name, inv.Name, "scenario %s", sc.Name)
			assert.Equal(t, orig.Invariants[i].Verdict, inv.Verdict, "scenario %s, invariant %s: %s", sc.Name, inv.Name, inv.Summary)
			assert.Equal(t, orig.Invariants[i].Summary, inv.Summary, "scenario %s, invariant %s", sc.Name, inv.Name)
		}
	}
	// The fault scenario's stop condition cannot be decided from the
	// history: it is carried over, and says so.
	var stop *reports.Invariant
	for i, sc := range again.Scenarios {
		for j := range sc.Invariants {
			if sc.Invariants[j].Name == NameStopCondition {
				stop = &again.Scenarios[i].Invariants[j]
			}
		}
	}
	require.NotNil(t, stop)
	assert.Contains(t, stop.Evidence, carriedOverNote)
}

// TestRejudgeErrors: bad pairs of history and report are refused
// with the problem and the fix.
func TestRejudgeErrors(t *testing.T) {
	h := &history.History{Meta: history.Meta{Scenario: "staging"}}
	inv := []reports.Invariant{{Name: "stickiness", Verdict: reports.Pass}}
	cases := []struct {
		name string
		orig reports.Scenario
		want string
	}{
		{"other scenario", reports.Scenario{Name: "production", Invariants: inv}, `the report names scenario "production"; pass the history and report.json of the same run`},
		{"no invariants", reports.Scenario{Name: "staging"}, "report.json lists no invariants for it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Rejudge(h, tc.orig)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestWithAnnotations: what target mode adds from probes outside the
// history survives a re-judge; a failure it caused stands.
func TestWithAnnotations(t *testing.T) {
	cases := []struct {
		name     string
		v, o     reports.Invariant
		verdict  reports.Verdict
		summary  string
		evidence []string
	}{
		{
			name:     "expiring certificate keeps the failure",
			v:        reports.Invariant{Verdict: reports.Pass, Summary: "ok", Evidence: []string{"a"}},
			o:        reports.Invariant{Verdict: reports.Fail, Summary: "1 certificates expire", Evidence: []string{"a", "abc.test: certificate valid until"}},
			verdict:  reports.Fail,
			summary:  "1 certificates expire",
			evidence: []string{"a", "abc.test: certificate valid until", "the failure is " + carriedOverNote},
		},
		{
			name:     "spread warning extends the summary",
			v:        reports.Invariant{Verdict: reports.Pass, Summary: "sticky"},
			o:        reports.Invariant{Verdict: reports.Pass, Summary: "sticky — warning: all 3", Evidence: []string{"spread of 3 client IPs"}},
			verdict:  reports.Pass,
			summary:  "sticky — warning: all 3",
			evidence: []string{"spread of 3 client IPs"},
		},
		{
			name:     "a failure found now stands",
			v:        reports.Invariant{Verdict: reports.Fail, Summary: "not sticky", Evidence: []string{"x"}},
			o:        reports.Invariant{Verdict: reports.Pass, Summary: "sticky"},
			verdict:  reports.Fail,
			summary:  "not sticky",
			evidence: []string{"x"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := withAnnotations(tc.v, tc.o)
			assert.Equal(t, tc.verdict, got.Verdict)
			assert.Equal(t, tc.summary, got.Summary)
			assert.Equal(t, tc.evidence, got.Evidence)
		})
	}
}
