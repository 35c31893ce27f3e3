package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// interrupting injects its fault and then interrupts the run, as a Ctrl-C
// in the middle of a fault would.
type interrupting struct {
	faults.Fault
	stop context.CancelFunc
}

func (f interrupting) Inject(ctx context.Context, env faults.Env) error {
	err := f.Fault.Inject(ctx, env)
	f.stop()
	return err
}

// TestInterruptedScheduleHealsEverything: a run interrupted while faults
// are in heals every one of them before it ends: each fault's record has
// its recovery, without error, and the lab's links and providers answer
// again (the fault's own Recover found them to mend).
func TestInterruptedScheduleHealsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runCtx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	spec := func() Scenario {
		return Scenario{
			Name: "interrupted", Description: "test: interrupted while two faults are in",
			Users: 4, Rate: 40, Duration: 20 * time.Second,
			Faults: []Step{
				{At: time.Second, For: 15 * time.Second, Fault: faults.LinkCut{Provider: "p1"}},
				{At: 2 * time.Second, For: 15 * time.Second, Fault: interrupting{faults.ProviderSlow{Provider: "p2", Latency: time.Second}, interrupt}},
			},
		}
	}
	began := time.Now()
	res, err := Execute(runCtx, spec, Config{Seed: 5, RunID: "interrupt"})
	require.Error(t, err, "an interrupted run says so")
	assert.Less(t, time.Since(began), 20*time.Second, "it stopped at the interrupt, not at the end of the load")
	require.NotNil(t, res.History)
	require.Len(t, res.History.Faults, 2, "both faults were in when the run was interrupted")
	for _, f := range res.History.Faults {
		assert.False(t, f.Recovered.IsZero(), "%s on %s was healed on the way out", f.Name, f.Target)
		assert.Empty(t, f.Err, "%s on %s healed without error", f.Name, f.Target)
	}
}
