package catalogue

import (
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// RedirectAndTLS checks the edge of the seed: http→https on every name, the
// right certificate per name (by SNI and per public IP) and forwarded headers.
func RedirectAndTLS() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "redirect-and-tls",
		Duration:    steadyDuration,
		Description: "Every http URL redirects to https with the same host, path and query; each name has its own valid certificate; providers see X-Forwarded-Proto and the client IP.",
		Requires:    []string{check.NameRedirect, check.NameTLS},
		Invariants:  []string{check.NameRedirect, check.NameTLS, check.NameForwardedHeaders, check.NameCookieIsolation},
	}
}

func init() { register(20, RedirectAndTLS) }
