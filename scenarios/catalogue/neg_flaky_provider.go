package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegFlakyProvider: both providers answer every tenth inbox request with a
// 500 while their health checks stay green, with no fault injected. Every
// other invariant passes (no stall, no move, no lost session); only
// availability sees users failed.
func NegFlakyProvider() scenarios.Scenario {
	return negative("neg-flaky-provider", "Broken on purpose: the providers answer every tenth inbox request with a 500 while their health checks stay green; no fault excuses it.",
		func(o *harness.Options) { o.Provider.FailEvery = 10 }, check.NameAvailability)
}

func init() { register(337, NegFlakyProvider) }
