package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegRedirectDropsQuery: the redirect loses the query string.
func NegRedirectDropsQuery() scenarios.Scenario {
	return negative("neg-redirect-drops-query", "Broken on purpose: the redirect to https drops the query string.",
		func(o *harness.Options) { o.Balancer.RedirectDropQuery = true }, check.NameRedirect)
}

func init() { register(220, NegRedirectDropsQuery) }
