package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegOldTokensValid: the provider accepts outdated tokens (hijackable).
func NegOldTokensValid() scenarios.Scenario {
	return negative("neg-old-tokens-valid", "Broken on purpose: the provider accepts outdated session tokens, so a stolen cookie stays usable.",
		func(o *harness.Options) { o.Provider.OldTokensValid = true }, check.NameCookieIsolation)
}

func init() { register(280, NegOldTokensValid) }
