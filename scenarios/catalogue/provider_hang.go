package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderHang freezes provider 1: it accepts connections and never answers.
// Only a health check with a timeout notices.
func ProviderHang() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "provider-hang",
		Description: "Provider 1 accepts connections but never answers; health checks must time out and move its clients.",
		Requires:    []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Duration:    10 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.ProviderHang{Provider: "p1"}}},
	}
}

func init() { register(40, ProviderHang) }
