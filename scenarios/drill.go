package scenarios

import (
	"context"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// DrillEnv is what a drill gets: the lab, the run's history so far, and
// Inject/Recover, which record every fault the drill causes exactly as a
// schedule would.
type DrillEnv struct {
	Lab *harness.Lab
	// Start is when the load began.
	Start    time.Time
	Duration time.Duration
	in       faults.Injector
}

// Record adds a request the drill made itself (a probe) to the history.
func (d *DrillEnv) Record(r history.Request) int64 { return d.in.Rec.Add(r) }

// Inject injects f now and records it in the history.
func (d *DrillEnv) Inject(ctx context.Context, f faults.Fault) (faults.Injected, error) {
	return d.in.Inject(ctx, f)
}

// Recover mends an injected fault and records when.
func (d *DrillEnv) Recover(ctx context.Context, i faults.Injected) error { return d.in.Recover(ctx, i) }

// History is a snapshot of what the run recorded so far.
func (d *DrillEnv) History() *history.History { return d.in.Rec.History() }
