package scenarios

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderSlow adds latency to provider 1 below the health-check timeout:
// nothing may fail and nobody may be moved.
func ProviderSlow() Scenario {
	return Scenario{
		Name:        "provider-slow",
		Description: "Provider 1 answers 80 ms late; slow is not down: no request fails, no client is re-pinned.",
		Duration:    7 * time.Second,
		Faults: []Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault {
				return faults.ProviderSlow{Lab: l, Provider: "p1", Latency: 80 * time.Millisecond}
			}}},
	}
}
