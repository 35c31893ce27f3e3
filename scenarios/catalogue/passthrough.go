package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// Passthrough is the seed's "without SSL offloading": the balancer passes TLS
// through (with PROXY protocol) and each internal IP serves its tenant's
// certificate.
func Passthrough() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "passthrough",
		Duration:    steadyDuration,
		Description: "TLS passthrough: the providers terminate TLS with each tenant's certificate on its internal IP; stickiness by source IP still holds.",
		Requires:    []string{check.NameStickiness, check.NameTLS, check.NameForwardedHeaders},
		Lab:         func(o *harness.Options) { o.Mode = harness.ModePassthrough },
	}
}

func init() { register(90, Passthrough) }
