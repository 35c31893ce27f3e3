package catalogue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ConflictingWrites writes the same message on both masters while the
// replication link is cut. After the heal, master-master replication stops
// with a duplicate key; the harness must detect it. Like a negative
// control, it passes when the named invariants fail.
func ConflictingWrites() scenarios.Scenario {
	return scenarios.Scenario{
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

func conflictingWrites(ctx context.Context, d *scenarios.DrillEnv) (map[string]float64, error) {
	if d.Lab.Pair() == nil {
		return nil, errors.New("conflicting writes need the MariaDB pair")
	}
	if !scenarios.SleepUntil(ctx, d.Start.Add(time.Second)) {
		return nil, nil
	}
	cut, err := d.Inject(ctx, faults.ReplicationCut{})
	if err != nil {
		return nil, errors.Join(err, d.Recover(ctx, cut))
	}
	msg := fmt.Sprintf("conflict-%d", time.Now().UnixNano())
	tenant := d.Lab.Options().Plan.Domains[0].Name
	var errs []error
	for _, p := range d.Lab.Options().Plan.ProviderIDs() {
		if err := d.Lab.SendDirect(ctx, p, tenant, "drill", msg); err != nil {
			errs = append(errs, fmt.Errorf("write %s via %s: %w", msg, p, err))
		}
	}
	scenarios.SleepUntil(ctx, time.Now().Add(time.Second))
	if err := d.Recover(ctx, cut); err != nil {
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func init() { register(170, ConflictingWrites) }
