package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderSlow adds latency to provider 1 below the health-check timeout:
// nothing may fail and nobody may be moved.
func ProviderSlow() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "provider-slow",
		Description: "Provider 1 answers 80 ms late; slow is not down: no request fails, no client is re-pinned.",
		Requires:    []string{check.NameStickiness, check.NameResponsiveness},
		Duration:    7 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Fault: faults.ProviderSlow{Provider: "p1", Latency: 80 * time.Millisecond}}},
	}
}

func init() { register(50, ProviderSlow) }
