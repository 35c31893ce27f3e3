package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// Baseline runs the full setup of the seed without any fault: every
// invariant must hold, with real master-master replication underneath.
func Baseline() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "baseline",
		Duration:      steadyDuration,
		Description:   "SSL offloading, source-IP persistence, master-master replication; load on both domains, no faults.",
		Requires:      []string{check.NameStickiness, check.NameSessionContinuity, check.NameRedirect, check.NameTLS, check.NameCookieIsolation, check.NameNoLostWrites, check.NameReplicationConvergence, check.NameReplicationHealth},
		NeedsDatabase: true,
		Lab:           func(o *harness.Options) { o.Mode = harness.ModeOffload },
	}
}

func init() { register(10, Baseline) }
