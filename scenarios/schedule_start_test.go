package scenarios

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/faults"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// lateDriver is a LoadDriver whose load begins a while after it is asked
// to drive, as agents do that must start and connect first; it runs the
// load here and notes when it began.
type lateDriver struct {
	startup time.Duration
	mu      *sync.Mutex
	began   *time.Time
}

func (d lateDriver) Drive(ctx context.Context, cfg load.Config, _ []byte, sink load.Sink) ([]reports.Agent, error) {
	select {
	case <-time.After(d.startup): // the agents starting up
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	onStart := cfg.OnStart
	cfg.OnStart = func() {
		d.mu.Lock()
		*d.began = time.Now()
		d.mu.Unlock()
		if onStart != nil {
			onStart()
		}
	}
	return nil, load.Run(ctx, cfg, sink)
}

// TestScheduleWaitsForTheLoad: the fault schedule starts when the load
// begins, not when the driver is asked to drive: with agents that take
// 2 s to start, a crash planned at 1 s still lands a second into the
// load, bites the clients of its provider and is judged.
func TestScheduleWaitsForTheLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab; skipped with -short")
	}
	spec := func() Scenario {
		return Scenario{
			Name: "late-load-crash", Description: "test: a provider crash planned 1 s into a load that begins late",
			Users: 6, Rate: 60, Duration: 4 * time.Second,
			Faults: []Step{{At: time.Second, For: time.Second, Fault: faults.ProviderCrash{Provider: "p1"}}},
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var began time.Time
	res, err := Execute(ctx, spec, Config{Seed: 3, RunID: "late", Load: lateDriver{startup: 2 * time.Second, mu: &mu, began: &began}})
	require.NoError(t, err)
	require.Len(t, res.History.Faults, 1)
	mu.Lock()
	defer mu.Unlock()
	require.False(t, began.IsZero(), "the load began")
	assert.GreaterOrEqual(t, res.History.Faults[0].Injected.Sub(began), time.Second, "the crash is planned from the load's start")
	assert.Empty(t, res.Report.NotJudged, "the crash bit and was judged")
}
