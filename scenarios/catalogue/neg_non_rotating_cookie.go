package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegNonRotatingCookie: the provider keeps one token per session.
func NegNonRotatingCookie() scenarios.Scenario {
	return negative("neg-non-rotating-cookie", "Broken on purpose: the provider does not rotate its session cookie on every response.",
		func(o *harness.Options) { o.Provider.NoRotate = true }, check.NameSessionContinuity)
}

func init() { register(270, NegNonRotatingCookie) }
