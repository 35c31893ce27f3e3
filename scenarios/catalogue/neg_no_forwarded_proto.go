package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegNoForwardedProto: providers cannot tell the request came over https.
func NegNoForwardedProto() scenarios.Scenario {
	return negative("neg-no-forwarded-proto", "Broken on purpose: the balancer sends no X-Forwarded-Proto to the providers.",
		func(o *harness.Options) { o.Balancer.NoForwardedProto = true }, check.NameForwardedHeaders)
}

func init() { register(240, NegNoForwardedProto) }
