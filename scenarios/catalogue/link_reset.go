package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// LinkReset makes every connection to provider 1 end in a TCP reset.
func LinkReset() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "link-reset",
		Description: "Every connection between the balancer and provider 1 is reset; passive checks must mark it down.",
		Requires:    []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Duration:    10 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.LinkReset{Provider: "p1"}}},
	}
}

func init() { register(70, LinkReset) }
