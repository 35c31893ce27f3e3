package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegNoRedirect: the http listener serves content.
func NegNoRedirect() scenarios.Scenario {
	return negative("neg-no-redirect", "Broken on purpose: the http listener serves content instead of redirecting to https.",
		func(o *harness.Options) { o.Balancer.NoRedirect = true }, check.NameRedirect)
}

func init() { register(210, NegNoRedirect) }
