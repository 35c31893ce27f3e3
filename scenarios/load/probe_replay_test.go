package load

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/internal/pki"
)

// TestProbeReplay: a provider that behaves like regify refuses a stolen
// outdated token; one that keeps old tokens valid hands the attacker the
// victim's session, which the record shows (session user ≠ requesting user).
func TestProbeReplay(t *testing.T) {
	ca, err := pki.NewCA("replay-test")
	require.NoError(t, err)
	leaf, err := ca.Issue([]string{"abc.test"}, nil, time.Hour)
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		broken   fakeprovider.Broken
		status   int
		stolenBy string // session user the attacker's response names
	}{
		{"regify-like provider", fakeprovider.Broken{}, 401, ""},
		{"old tokens valid", fakeprovider.Broken{OldTokensValid: true}, 200, ReplayVictim},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := fakeprovider.New(fakeprovider.Config{
				ID: "p1", Tenants: []string{"abc.test"}, Password: "pw", Store: fakeprovider.NewMemoryStore(),
				TLS: map[string]tls.Certificate{"abc.test": leaf.TLS}, Broken: tc.broken,
			})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, p.Start(ctx, fakeprovider.Bind{Addr: "127.0.12.3:0", Tenant: "abc.test"}))
			t.Cleanup(func() { _ = p.Close(context.Background()) })
			_, port, err := net.SplitHostPort(p.Addrs()[0])
			require.NoError(t, err)
			cfg := Config{Domains: []history.Domain{{Name: "abc.test", PublicIP: "127.0.12.3", HTTPS: fmt.Sprintf("https://abc.test:%s/", port)}},
				SourceIPs: sources(2), Password: "pw", CA: ca.Pool(), Timeout: 5 * time.Second}
			rec := history.NewRecorder(history.Meta{})
			var seenAtBarrier []int
			cfg.ReplayBarrier = func(context.Context) error {
				seenAtBarrier = append(seenAtBarrier, len(rec.History().Requests))
				return nil
			}
			require.NoError(t, ProbeReplay(ctx, cfg, rec))

			reqs := rec.History().Requests
			require.Len(t, reqs, 3, "login, one request that rotates the token, the replay")
			assert.Equal(t, []int{2}, seenAtBarrier, "the barrier runs once, after the rotation and before the replay")
			login, replay := reqs[0], reqs[2]
			assert.Equal(t, 200, login.Status)
			assert.Equal(t, OpReplay, replay.Op)
			assert.Equal(t, ReplayAttacker, replay.User)
			assert.Equal(t, login.TokenReceived, replay.TokenSent, "the attacker presents the victim's first token")
			assert.NotEqual(t, login.SourceIP, replay.SourceIP, "from another address")
			assert.Equal(t, tc.status, replay.Status)
			assert.Equal(t, tc.stolenBy, replay.SessionUser)
		})
	}
}
