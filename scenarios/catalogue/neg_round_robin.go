package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegRoundRobin: a balancer without persistence.
func NegRoundRobin() scenarios.Scenario {
	return negative("neg-round-robin", "Broken on purpose: the balancer rotates requests round robin instead of pinning source IPs.",
		func(o *harness.Options) { o.Balancer.RoundRobin = true }, check.NameStickiness)
}

func init() { register(190, NegRoundRobin) }
