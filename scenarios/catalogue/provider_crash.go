package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderCrash kills provider 1 under load: its clients must move to
// provider 2 within the failover bound and stay there.
func ProviderCrash() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "provider-crash",
		Description: "Provider 1 loses power under load (listeners and live connections gone) and comes back; traffic fails over to provider 2.",
		Requires:    []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Duration:    10 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.ProviderCrash{Provider: "p1"}}},
	}
}

func init() { register(30, ProviderCrash) }
