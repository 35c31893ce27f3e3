package scenarios

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// ConflictingWrites writes the same message on both masters while the
// replication link is cut. After the heal, master-master replication stops
// with a duplicate key; the harness must detect it. Like a negative
// control, it passes when the named invariants fail.
func ConflictingWrites() Scenario {
	return Scenario{
		Name:          "conflicting-writes",
		Description:   "During a replication cut the same message id is written on master A (via provider 1) and master B (via provider 2); after the heal the conflict must be detected.",
		NeedsDatabase: true,
		Negative:      true,
		ExpectFail:    []string{check.NameReplicationHealth, check.NameReplicationConvergence},
		Duration:      6 * time.Second,
		ConvergeBound: 3 * time.Second,
		Drill:         conflictingWrites,
	}
}

func conflictingWrites(ctx context.Context, d *DrillEnv) (map[string]float64, error) {
	pair := d.Lab.Pair()
	if pair == nil {
		return nil, errors.New("conflicting writes need the MariaDB pair")
	}
	if !sleepUntil(ctx, d.Start.Add(time.Second)) {
		return nil, nil
	}
	f := history.Fault{Name: "replication-cut", Target: "replication", Injected: time.Now(), DatabaseFault: true}
	if err := pair.CutReplication(ctx); err != nil {
		return nil, fmt.Errorf("cut replication: %w", err)
	}
	id := d.Recorder.Fault(f)
	msg := fmt.Sprintf("conflict-%d", time.Now().UnixNano())
	tenant := d.Lab.Options().Plan.Domains[0].Name
	var errs []error
	for _, p := range d.Lab.Options().Plan.ProviderIDs() {
		if err := directSend(ctx, d.Lab.Internal()[p][tenant], tenant, "drill", d.Lab.Options().Password, msg); err != nil {
			errs = append(errs, fmt.Errorf("write %s via %s: %w", msg, p, err))
		}
	}
	sleepUntil(ctx, time.Now().Add(time.Second))
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	herr := pair.HealReplication(hctx)
	text := ""
	if herr != nil {
		text = herr.Error()
		errs = append(errs, fmt.Errorf("heal replication: %w", herr))
	}
	_ = d.Recorder.Recovered(id, time.Now(), text)
	return nil, errors.Join(errs...)
}
