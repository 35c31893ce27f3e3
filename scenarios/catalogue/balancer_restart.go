package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// BalancerRestart stops the balancer under load as a crash does and
// starts a fresh one a second later: every user is refused meanwhile, and
// the new balancer, its affinity table lost, pins each client afresh.
// Stickiness excuses that one move per client and nothing more; the
// shared session store keeps every session across it.
func BalancerRestart() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "balancer-restart",
		Description: "The balancer crashes under load and a fresh one starts a second later with an empty affinity table; clients are pinned afresh once and keep their sessions.",
		Requires:    []string{check.NameStickiness, check.NameSessionContinuity, check.NameResponsiveness},
		Duration:    8 * time.Second,
		Faults: []scenarios.Step{{At: 3 * time.Second, For: time.Second, Jitter: 300 * time.Millisecond,
			Fault: faults.BalancerRestart{}}},
	}
}

func init() { register(37, BalancerRestart) }
