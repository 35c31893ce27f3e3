package load

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

func TestProbeRedirect(t *testing.T) {
	tests := []struct {
		name       string
		noRedirect bool
	}{
		{name: "redirects to https"},
		{name: "broken: plain content", noRedirect: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeProvider()
			lab := newTestLab(t, fake, labOptions{noRedirect: tt.noRedirect})
			cfg := lab.config(3)
			rec := history.NewRecorder(history.Meta{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, ProbeRedirect(ctx, cfg, rec))

			var probes, follows []history.Request
			for _, r := range rec.History().Requests {
				switch r.Op {
				case history.OpRedirect:
					probes = append(probes, r)
				case OpRedirectFollow:
					follows = append(follows, r)
				default:
					t.Errorf("unexpected op %s", r.Op)
				}
			}
			// 2 source IPs × 2 domains × 3 paths.
			require.Len(t, probes, 12)
			sources := map[string]int{}
			for _, p := range probes {
				sources[p.SourceIP]++
				assert.Empty(t, p.Err)
				assert.True(t, strings.HasPrefix(p.URL, "http://"), p.URL)
				assert.NotContains(t, p.URL, "#")
			}
			assert.Equal(t, map[string]int{"127.0.10.1": 6, "127.0.10.2": 6}, sources)
			if tt.noRedirect {
				for _, p := range probes {
					assert.Equal(t, http.StatusOK, p.Status)
					assert.Empty(t, p.Location)
				}
				assert.Empty(t, follows)
				return
			}
			require.Len(t, follows, 12)
			for i, p := range probes {
				assert.Equal(t, http.StatusPermanentRedirect, p.Status)
				https := lab.domains[0].HTTPS
				if p.Tenant == "def.test" {
					https = lab.domains[1].HTTPS
				}
				path := p.URL[strings.Index(p.URL[len("http://"):], "/")+len("http://"):]
				assert.Equal(t, strings.TrimSuffix(https, "/")+path, p.Location)
				f := follows[i]
				assert.Equal(t, p.Location, f.URL)
				assert.Empty(t, f.Err)
				require.NotNil(t, f.TLS, "the follow lands on https")
				assert.True(t, f.TLS.Verified)
				assert.Equal(t, p.Tenant, f.ServedTenant)
				assert.NotZero(t, f.Status)
			}
			// The query survives verbatim and the fragment never reaches the wire.
			fake.mu.Lock()
			defer fake.mu.Unlock()
			assert.Contains(t, fake.uris, "/inbox?x=1&y=%2F")
			assert.Contains(t, fake.uris, "/a/b/c?q=1")
			for _, u := range fake.uris {
				assert.NotContains(t, u, "frag")
			}
		})
	}
}

func TestProbeTLS(t *testing.T) {
	tests := []struct {
		name         string
		wrongDefault bool
		// wantVerified by "domain/sni?"
		wantVerified map[string]bool
		wantPeer     map[string]string
	}{
		{
			name:         "certificate per SNI and per public IP",
			wantVerified: map[string]bool{"abc.test/sni": true, "abc.test/none": true, "def.test/sni": true, "def.test/none": true},
			wantPeer:     map[string]string{"abc.test/sni": "abc.test", "abc.test/none": "abc.test", "def.test/sni": "def.test", "def.test/none": "def.test"},
		},
		{
			name:         "broken: wrong certificate without SNI",
			wrongDefault: true,
			wantVerified: map[string]bool{"abc.test/sni": true, "abc.test/none": true, "def.test/sni": true, "def.test/none": false},
			wantPeer:     map[string]string{"abc.test/sni": "abc.test", "abc.test/none": "abc.test", "def.test/sni": "def.test", "def.test/none": "abc.test"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := newTestLab(t, newFakeProvider(), labOptions{wrongDefault: tt.wrongDefault})
			cfg := lab.config(1)
			rec := history.NewRecorder(history.Meta{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, ProbeTLS(ctx, cfg, rec))

			reqs := rec.History().Requests
			require.Len(t, reqs, 6, "with SNI, without, and TLS ≤ 1.1 per name")
			for _, r := range reqs {
				require.Equal(t, history.OpTLS, r.Op)
				if r.User == LegacyTLSProbeUser {
					continue // TestProbeTLSLegacyVersions
				}
				require.Empty(t, r.Err)
				require.NotNil(t, r.TLS)
				f := r.TLS
				key := r.Tenant + "/none"
				if f.ServerName != "" {
					key = r.Tenant + "/sni"
					assert.Equal(t, r.Tenant, f.ServerName)
				}
				assert.Equal(t, tt.wantVerified[key], f.Verified, "%s: %s", key, f.VerifyErr)
				assert.Equal(t, []string{tt.wantPeer[key]}, f.PeerNames, key)
				if !f.Verified {
					assert.Contains(t, f.VerifyErr, r.Tenant)
				}
				assert.Equal(t, r.Tenant, f.Expected)
				assert.Equal(t, "TLS 1.3", f.Version)
				assert.NotEmpty(t, f.Cipher)
				assert.Equal(t, "http/1.1", f.ALPN)
				assert.True(t, f.NotAfter.After(time.Now()))
				ip := lab.domains[0].PublicIP
				if r.Tenant == "def.test" {
					ip = lab.domains[1].PublicIP
				}
				assert.True(t, strings.HasPrefix(f.Address, ip+":"), "connected to %s, want public IP %s", f.Address, ip)
				assert.Equal(t, "127.0.10.1", r.SourceIP)
			}
		})
	}
}

func TestProbeTLSRecordsRefusedConnections(t *testing.T) {
	lab := newTestLab(t, newFakeProvider(), labOptions{})
	cfg := lab.config(1)
	cfg.Domains = []history.Domain{{Name: "gone.test", PublicIP: "127.0.11.9", HTTPS: "https://gone.test:1/"}}
	rec := history.NewRecorder(history.Meta{})
	require.NoError(t, ProbeTLS(context.Background(), cfg, rec))
	reqs := rec.History().Requests
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		assert.Contains(t, r.Err, "127.0.11.9:1")
		require.NotNil(t, r.TLS)
		assert.False(t, r.TLS.Verified)
		assert.NotEmpty(t, r.TLS.VerifyErr)
	}
}

// A balancer that still accepts TLS 1.0/1.1 is caught by the handshake that
// offers nothing newer, and the tls invariant fails naming name, address and
// version; one with Go's default minimum (TLS 1.2) refuses it and passes.
func TestProbeTLSLegacyVersions(t *testing.T) {
	tests := []struct {
		name     string
		minTLS   uint16
		accepted string // version the legacy handshake got; "" refused
		verdict  reports.Verdict
	}{
		{name: "minimum TLS 1.2 refuses", minTLS: 0, verdict: reports.Pass},
		{name: "broken: TLS 1.0 allowed", minTLS: tls.VersionTLS10, accepted: "TLS 1.1", verdict: reports.Fail},
		{name: "broken: TLS 1.1 allowed", minTLS: tls.VersionTLS11, accepted: "TLS 1.1", verdict: reports.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := newTestLab(t, newFakeProvider(), labOptions{minTLS: tt.minTLS})
			cfg := lab.config(1)
			rec := history.NewRecorder(history.Meta{Domains: lab.domains})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, ProbeTLS(ctx, cfg, rec))

			h := rec.History()
			legacy := 0
			for _, r := range h.Requests {
				if r.User != LegacyTLSProbeUser {
					assert.Empty(t, r.Err, "the normal probes succeed")
					continue
				}
				legacy++
				assert.Equal(t, r.Tenant, r.TLS.ServerName, "the legacy probe sends the name")
				assert.Equal(t, tt.accepted, r.TLS.Version)
				if tt.accepted == "" {
					assert.Contains(t, r.Err, "TLS handshake")
				} else {
					assert.Empty(t, r.Err)
				}
			}
			assert.Equal(t, len(lab.domains), legacy, "one legacy handshake per name")

			assert.Equal(t, check.TLSLegacyProbeUser, LegacyTLSProbeUser)
			inv := check.Run(h, []check.Invariant{check.TLS{}})[0]
			assert.Equal(t, tt.verdict, inv.Verdict, "%s %v", inv.Summary, inv.Evidence)
			if tt.verdict == reports.Fail {
				text := strings.Join(inv.Evidence, "\n")
				for _, d := range lab.domains {
					assert.Contains(t, text, d.Name+" at "+d.PublicIP+":")
				}
				assert.Contains(t, text, "accepted "+tt.accepted)
			}
		})
	}
}
