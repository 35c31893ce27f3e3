package scenarios

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// Passthrough is the seed's "without SSL offloading": the balancer passes TLS
// through (with PROXY protocol) and each internal IP serves its tenant's
// certificate.
func Passthrough() Scenario {
	return Scenario{
		Name:        "passthrough",
		Description: "TLS passthrough: the providers terminate TLS with each tenant's certificate on its internal IP; stickiness by source IP still holds.",
		Lab:         func(o *harness.Options) { o.Mode = harness.ModePassthrough },
	}
}

// PassthroughProviderCrash is the provider crash without SSL offloading.
func PassthroughProviderCrash() Scenario {
	return Scenario{
		Name:        "passthrough-provider-crash",
		Description: "TLS passthrough; provider 1 crashes and comes back.",
		Lab:         func(o *harness.Options) { o.Mode = harness.ModePassthrough },
		Duration:    8 * time.Second,
		Faults: []Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault { return faults.ProviderCrash{Lab: l, Provider: "p1"} }}},
	}
}
