package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegCookiePersistence: persistence by the application's session cookie,
// which regify rotates on every response (the seed's footnote).
func NegCookiePersistence() scenarios.Scenario {
	return negative("neg-cookie-persistence", "Broken on purpose: the balancer persists sessions by a hash of the regify session cookie, which changes on every response.",
		func(o *harness.Options) { o.Balancer.CookieHash = "regify_session" }, check.NameStickiness)
}

func init() { register(200, NegCookiePersistence) }
