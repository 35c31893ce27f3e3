package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegRedirectWrongHost: the redirect goes to another name.
func NegRedirectWrongHost() scenarios.Scenario {
	return negative("neg-redirect-wrong-host", "Broken on purpose: the redirect sends every name to abc.test.",
		func(o *harness.Options) { o.Balancer.RedirectHost = "abc.test" }, check.NameRedirect)
}

func init() { register(230, NegRedirectWrongHost) }
