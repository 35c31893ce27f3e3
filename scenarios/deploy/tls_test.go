package deploy

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// A balancer that still accepts TLS 1.0/1.1 fails tls with the name, the
// address and the accepted version; one with TLS ≥ 1.2 only passes.
func TestCheckRefusesLegacyTLS(t *testing.T) {
	tests := []struct {
		name    string
		minTLS  uint16
		verdict reports.Verdict
	}{
		{name: "TLS 1.2 minimum", minTLS: tls.VersionTLS12, verdict: reports.Pass},
		{name: "broken: TLS 1.0 accepted", minTLS: tls.VersionTLS10, verdict: reports.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGoRig(t, goRigOptions{minTLS: tt.minTLS})
			sc := checkOnce(t, g.deployment(t, ""), Options{})
			inv := findVerdict(t, sc, check.NameTLS)
			assert.Equal(t, tt.verdict, inv.Verdict, inv.Summary)
			if tt.verdict == reports.Fail {
				text := strings.Join(inv.Evidence, "\n")
				assert.Contains(t, text, rigNameA+" at "+goRigPublicA+":")
				assert.Contains(t, text, rigNameB+" at "+goRigPublicB+":")
				assert.Contains(t, text, "accepted TLS 1.1")
			} else {
				assert.Contains(t, inv.Summary, "offering only TLS 1.0/1.1 refused")
			}
		})
	}
}
