package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// PassthroughProviderCrash is the provider crash without SSL offloading.
func PassthroughProviderCrash() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "passthrough-provider-crash",
		Description: "TLS passthrough; provider 1 crashes and comes back.",
		Requires:    []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Lab:         func(o *harness.Options) { o.Mode = harness.ModePassthrough },
		Duration:    10 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.ProviderCrash{Provider: "p1"}}},
	}
}

func init() { register(100, PassthroughProviderCrash) }
