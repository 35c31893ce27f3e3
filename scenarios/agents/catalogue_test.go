package agents_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/internal/testbin"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/agents"
	"github.com/regify-verify/regify-verify/scenarios/catalogue"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// TestMain builds regify-verify: the Local engine runs agents as its
// child processes.
func TestMain(m *testing.M) {
	harness.PrepareEnv()
	cleanup, err := testbin.Setenv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build regify-verify for agent processes:", err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// TestAgentsJudgeTheMergedHistory (here, not beside the catalogue: make
// test runs the catalogue alone): provider-crash with its users split
// over four local agent processes passes as it does in one process, each
// agent reported with its own users and source addresses and a clock
// bound; round robin behind the agents fails stickiness as it does
// without them.
func TestAgentsJudgeTheMergedHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up labs and agent processes; skipped with -short")
	}
	cfg := scenarios.Config{Seed: 11, RunID: "agents", Load: agents.Driver{Agents: 4, Engine: agents.Local{}}}
	res := scenarios.RunAll(t, cfg, 2, catalogue.ProviderCrash, catalogue.NegRoundRobin)
	assertAgentsJudged(t, res, 4, "local")
}

// assertAgentsJudged checks runs whose load went through n agents of an
// engine: each agent reported, alive, with its share and its own source
// addresses, every user request from one of them; the first result must
// pass and a round robin's (the second, when given) fail stickiness.
func assertAgentsJudged(t *testing.T, res []scenarios.Result, n int, engine string) {
	t.Helper()
	for _, r := range res {
		require.Len(t, r.Report.Agents, n, r.Report.Name)
		seen := map[string]string{}
		for _, a := range r.Report.Agents {
			assert.Equal(t, engine, a.Engine)
			assert.Empty(t, a.Died)
			assert.Positive(t, a.Requests)
			assert.Less(t, a.ClockBound.Milliseconds(), int64(50), "agents on this machine share its clock")
			for _, ip := range a.SourceIPs {
				assert.Empty(t, seen[ip], "%s on two agents", ip)
				seen[ip] = a.ID
			}
		}
		for _, q := range r.History.Requests {
			if q.Scheduled.IsZero() {
				continue // a probe of the coordinator's own
			}
			assert.NotEmpty(t, seen[q.SourceIP], "request #%d from %s, no agent's address", q.Seq, q.SourceIP)
		}
	}
	for _, inv := range res[0].Report.Invariants {
		assert.NotEqual(t, reports.Fail, inv.Verdict, "%s: %s: %s", res[0].Report.Name, inv.Name, inv.Summary)
	}
	assert.Empty(t, res[0].Report.NotJudged, res[0].Report.Name)
	if len(res) < 2 {
		return
	}
	for _, inv := range res[1].Report.Invariants {
		if inv.Name == check.NameStickiness {
			assert.Equal(t, reports.Fail, inv.Verdict, "round robin behind agents: %s", inv.Summary)
		}
	}
}
