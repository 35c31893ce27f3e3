package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// LinkCut cuts the network between the balancer and provider 1.
func LinkCut() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "link-cut",
		Description: "The network between the balancer and provider 1 is cut and restored; provider 1 keeps running.",
		Requires:    []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Duration:    10 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.LinkCut{Provider: "p1"}}},
	}
}

func init() { register(60, LinkCut) }
