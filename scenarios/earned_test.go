package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// inertCrash is a provider crash made inert on purpose: it answers to the
// name and the effect check of provider-crash and does nothing.
type inertCrash struct{ faults.ProviderCrash }

func (inertCrash) Inject(context.Context, faults.Env) error  { return nil }
func (inertCrash) Recover(context.Context, faults.Env) error { return nil }

// TestInertFaultIsNotJudged: a fault that did not take effect makes the
// scenario incomplete, naming the fault and why, however green its
// invariants are; so does a required invariant that was skipped.
func TestInertFaultIsNotJudged(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab; skipped with -short")
	}
	spec := func() Scenario {
		return Scenario{
			Name: "inert-provider-crash", Description: "test: a provider crash that does nothing",
			Users: 4, Rate: 40, Duration: 4 * time.Second,
			Faults:   []Step{{At: time.Second, For: 2 * time.Second, Fault: inertCrash{faults.ProviderCrash{Provider: "p1"}}}},
			Requires: []string{check.NameFailover, check.NameReplicationHealth},
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Execute(ctx, spec, Config{Seed: 3, RunID: "inert"})
	require.NoError(t, err)
	sc := res.Report
	require.Len(t, sc.NotJudged, 2, "%q", sc.NotJudged)
	assert.Contains(t, sc.NotJudged[0], "fault provider-crash on p1 did not take effect: none of the")
	assert.Contains(t, sc.NotJudged[1], "invariant replication-health, which this scenario exists to judge, was skipped")
	require.Len(t, sc.Faults, 1)
	assert.Contains(t, sc.Faults[0].Effect, "none of the")
	rep := reports.Report{Scenarios: []reports.Scenario{sc}}
	rep.Finish()
	assert.Equal(t, reports.Incomplete, rep.Verdict, "an inert fault is never a pass")

	// Re-judging the saved history earns the verdict again: the same
	// reasons, from the history alone.
	again, err := Judge(res.History, func(string) (Spec, error) { return spec, nil })
	require.NoError(t, err)
	assert.Equal(t, sc.NotJudged, again.NotJudged)
	assert.Equal(t, sc.Faults[0].Effect, again.Faults[0].Effect)
}
