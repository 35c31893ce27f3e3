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

// TestRunAgainstFakeProvider runs the load against the project's own fake
// provider (TLS on the provider itself, no balancer): its strict token
// checks answer 401 with a reason to anything outdated, raced or unknown.
func TestRunAgainstFakeProvider(t *testing.T) {
	ca, err := pki.NewCA("load-fakeprovider-test")
	require.NoError(t, err)
	names := []string{"abc.test", "def.test"}
	certs := map[string]tls.Certificate{}
	for _, n := range names {
		leaf, err := ca.Issue([]string{n}, nil, time.Hour)
		require.NoError(t, err)
		certs[n] = leaf.TLS
	}
	p, err := fakeprovider.New(fakeprovider.Config{
		ID: "p1", Tenants: names, Password: "pw", Store: fakeprovider.NewMemoryStore(),
		ShowSeen: true, TLS: certs,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, p.Start(ctx,
		fakeprovider.Bind{Addr: "127.0.12.1:0", Tenant: "abc.test"},
		fakeprovider.Bind{Addr: "127.0.12.2:0", Tenant: "def.test"}))
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		assert.NoError(t, p.Close(cctx))
	})
	addrs := p.Addrs()
	require.Len(t, addrs, 2)
	var domains []history.Domain
	for i, n := range names {
		host, port, err := net.SplitHostPort(addrs[i])
		require.NoError(t, err)
		domains = append(domains, history.Domain{Name: n, PublicIP: host, HTTPS: fmt.Sprintf("https://%s:%s/", n, port)})
	}

	cfg := Config{Users: 16, SourceIPs: sources(16), Domains: domains, Duration: 30 * time.Second,
		MaxRequests: 400, Password: "pw", CA: ca.Pool(), Timeout: 5 * time.Second, Seed: 3}
	rec := history.NewRecorder(history.Meta{})
	require.NoError(t, Run(ctx, cfg, rec))

	reqs := rec.History().Requests
	require.Len(t, reqs, 400)
	for _, r := range reqs {
		i := 0
		_, err := fmt.Sscanf(r.User, "u%03d", &i)
		require.NoError(t, err)
		i--
		require.True(t, r.OK(), "%s %s %s: %d %s", r.User, r.Op, r.URL, r.Status, r.Err)
		assert.Equal(t, cfg.SourceIPs[i].String(), r.SourceIP)
		assert.Equal(t, "p1", r.Provider)
		assert.Equal(t, domains[i%2].Name, r.ServedTenant)
		if r.Op != history.OpLogin && r.Op != history.OpLogout {
			assert.Equal(t, r.User, r.SessionUser)
			assert.NotEmpty(t, r.TokenReceived)
		}
		require.NotNil(t, r.Seen, "X-Regify-Seen decoded")
		assert.Equal(t, cfg.SourceIPs[i].String(), hostOf(r.Seen.RemoteAddr))
		assert.True(t, r.Seen.TLS)
	}
}
