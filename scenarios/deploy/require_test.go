package deploy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/reports"
)

// TestSkippedRequiredInvariantIsIncomplete: a deployment whose file gives
// no plain-http URL cannot have its redirect judged; redirect is required
// by default, so the scenario is not judged — with the key to set — and can
// never pass. (This rig has no balancer, so forwarded-headers fails too; a
// failure outranks the gap, see reports.TestIncompleteVerdict.)
func TestSkippedRequiredInvariantIsIncomplete(t *testing.T) {
	rep, _ := checkRun(t)
	require.NotEmpty(t, rep.Scenarios)
	sc := rep.Scenarios[0]
	logScenario(t, &sc)
	assert.NotEqual(t, reports.Pass, sc.Verdict)
	sc.Invariants = passedOnly(sc.Invariants)
	rep.Scenarios = []reports.Scenario{sc}
	rep.Finish()
	assert.Equal(t, reports.Incomplete, rep.Verdict, "without the failure the run is incomplete, not a pass")
	text := strings.Join(sc.NotJudged, "\n")
	assert.Contains(t, text, "invariant redirect, which this scenario exists to judge, was skipped")
	assert.Contains(t, text, "give each domain its plain-http URL (domains[].http), or drop it from require:")
}

// passedOnly drops the failed invariants.
func passedOnly(invs []reports.Invariant) []reports.Invariant {
	var out []reports.Invariant
	for _, inv := range invs {
		if inv.Verdict != reports.Fail {
			out = append(out, inv)
		}
	}
	return out
}
