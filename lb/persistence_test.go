package lb

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backendsSeen makes n requests from src, each on a new connection, and
// returns the backends that answered, in order.
func backendsSeen(t *testing.T, c *testCerts, bl *Balancer, src string, n int, h2 bool) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		cl := client(c, src, bl.Addrs()[0].String(), h2)
		s, resp := getSeen(t, cl, "https://abc.test/inbox")
		require.Equal(t, 200, resp.StatusCode)
		out = append(out, s.Backend)
		cl.CloseIdleConnections()
	}
	return out
}

func distinct(xs []string) map[string]int {
	m := map[string]int{}
	for _, x := range xs {
		m[x]++
	}
	return m
}

func TestSourceIPPersistence(t *testing.T) {
	c := newCerts(t)
	p1, p2 := startBackend(t, "p1-abc"), startBackend(t, "p2-abc")
	tests := []struct {
		name         string
		mod          func(*Config)
		h2           bool
		wantSticky   bool // every client IP sees exactly one backend
		wantBothUsed bool // the clients together reach both backends
	}{
		{"source IP /32 (h1)", nil, false, true, true},
		{"source IP /32 (h2)", nil, true, true, true},
		{"source IP /24 groups the whole subnet", func(c *Config) { c.Persistence.IPv4Mask = 24 }, false, true, false},
		{"broken: round robin", func(c *Config) { c.Broken.RoundRobin = true }, false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := labConfig(c, []*testBackend{p1, p2}, []*testBackend{p1})
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			bl := startLB(t, cfg)
			all := map[string]int{}
			for i := 1; i <= 8; i++ {
				src := fmt.Sprintf("127.0.10.%d", i)
				got := distinct(backendsSeen(t, c, bl, src, 4, tc.h2))
				for k, v := range got {
					all[k] += v
				}
				if tc.wantSticky {
					assert.Len(t, got, 1, "client %s saw %v", src, got)
					name, ok := bl.Pinned("abc", netip.MustParseAddr(src))
					assert.True(t, ok)
					_, pinnedSeen := got[name]
					assert.True(t, pinnedSeen, "pin %s not the backend seen %v", name, got)
				} else {
					assert.Len(t, got, 2, "round robin: client %s should see both, saw %v", src, got)
				}
			}
			if tc.wantBothUsed {
				assert.Len(t, all, 2, "new clients are spread over the pool: %v", all)
			} else {
				assert.Len(t, all, 1, "one /24 pins to one backend: %v", all)
			}
		})
	}
}

func TestCookieInsertBrokenMode(t *testing.T) {
	c := newCerts(t)
	p1, p2 := startBackend(t, "p1-abc"), startBackend(t, "p2-abc")
	cfg := labConfig(c, []*testBackend{p1, p2}, []*testBackend{p1})
	cfg.Broken.CookieInsert = true
	bl := startLB(t, cfg)
	// One client IP without a cookie is spread round robin, with an inserted cookie.
	cl := client(c, "127.0.10.1", bl.Addrs()[0].String(), false)
	var cookies []string
	var names []string
	for i := 0; i < 4; i++ {
		s, resp := getSeen(t, cl, "https://abc.test/")
		names = append(names, s.Backend)
		cookies = append(cookies, resp.Header.Get("Set-Cookie"))
	}
	assert.Len(t, distinct(names), 2, "no source-IP persistence in cookie mode: %v", names)
	assert.True(t, strings.HasPrefix(cookies[0], CookieName+"="+names[0]), cookies[0])
	// With the cookie, persistence follows it, whatever the source IP.
	for _, src := range []string{"127.0.10.2", "127.0.10.3", "127.0.10.4"} {
		cl := client(c, src, bl.Addrs()[0].String(), false)
		for i := 0; i < 3; i++ {
			req := mustReq(t, "https://abc.test/")
			req.Header.Set("Cookie", "regify_session=x; "+CookieName+"=p2-abc")
			resp, err := cl.Do(req)
			require.NoError(t, err)
			assert.Equal(t, "p2-abc", resp.Header.Get("X-Regify-Backend"))
			assert.Empty(t, resp.Header.Get("Set-Cookie"))
			readAll(t, resp)
		}
	}
}

// TestFailoverAndRepin: a backend that dies loses its clients to the
// survivor at once (passive marking), and they stay there when it returns.
func TestFailoverAndRepin(t *testing.T) {
	c := newCerts(t)
	p1, p2 := startBackend(t, "p1-abc"), startBackend(t, "p2-abc")
	cfg := labConfig(c, []*testBackend{p1, p2}, []*testBackend{p1})
	bl := startLB(t, cfg)
	// Pin eight clients, find those on p1.
	pins := map[string]string{}
	for i := 1; i <= 8; i++ {
		src := fmt.Sprintf("127.0.10.%d", i)
		pins[src] = backendsSeen(t, c, bl, src, 1, false)[0]
	}
	require.Len(t, distinct(values(pins)), 2)
	p1.stop()
	// Every request still succeeds: a refused connection marks p1 down and
	// the request goes to p2 (no error reaches the client).
	for src, was := range pins {
		got := backendsSeen(t, c, bl, src, 2, false)
		assert.Equal(t, []string{"p2-abc", "p2-abc"}, got, "client %s (was on %s)", src, was)
		name, _ := bl.Pinned("abc", netip.MustParseAddr(src))
		assert.Equal(t, "p2-abc", name, "client %s re-pinned", src)
	}
	assert.False(t, backendUp(bl, "abc", "p1-abc"))
	// p1 returns: the active check brings it up within rise×interval, and
	// existing pins stay on p2 (no flapping); new clients use p1 again.
	p1.revive()
	hc := bl.cfg.HealthCheck
	eventually(t, time.Duration(hc.Rise+2)*hc.Interval+hc.Timeout+time.Second, func() bool { return backendUp(bl, "abc", "p1-abc") }, "p1 back up")
	for src := range pins {
		assert.Equal(t, []string{"p2-abc"}, backendsSeen(t, c, bl, src, 1, false), "client %s flapped back", src)
	}
	var fresh []string
	for i := 20; i < 26; i++ {
		fresh = append(fresh, backendsSeen(t, c, bl, fmt.Sprintf("127.0.10.%d", i), 1, false)...)
	}
	assert.Contains(t, fresh, "p1-abc", "new clients reach the revived backend")
}

// TestActiveHealthCheckFailoverBound: a backend whose health check fails
// while it still accepts connections is taken out within interval×fall plus
// the check timeout (plus one interval for the phase of the ticker), and its
// clients move to the survivor.
func TestActiveHealthCheckFailoverBound(t *testing.T) {
	c := newCerts(t)
	tests := []struct {
		name string
		hc   HealthCheck
		hang bool // the check times out instead of failing fast
	}{
		{"503, interval 50ms fall 2", HealthCheck{Interval: 50 * time.Millisecond, Timeout: 50 * time.Millisecond, Rise: 2, Fall: 2}, false},
		{"503, interval 100ms fall 3", HealthCheck{Interval: 100 * time.Millisecond, Timeout: 50 * time.Millisecond, Rise: 1, Fall: 3}, false},
		{"hang, interval 100ms timeout 80ms fall 2", HealthCheck{Interval: 100 * time.Millisecond, Timeout: 80 * time.Millisecond, Rise: 1, Fall: 2}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p1, p2 := startBackend(t, "p1-abc"), startBackend(t, "p2-abc")
			cfg := labConfig(c, []*testBackend{p1, p2}, []*testBackend{p1})
			cfg.HealthCheck = tc.hc
			bl := startLB(t, cfg)
			src := ""
			for i := 1; i <= 8 && src == ""; i++ {
				s := fmt.Sprintf("127.0.10.%d", i)
				if backendsSeen(t, c, bl, s, 1, false)[0] == "p1-abc" {
					src = s
				}
			}
			require.NotEmpty(t, src)
			// fall checks, the first within one interval, each up to the timeout.
			bound := time.Duration(tc.hc.Fall)*(tc.hc.Interval+tc.hc.Timeout) + tc.hc.Interval
			// scheduling on a shared 2-core machine running other test binaries
			slack := 500 * time.Millisecond
			if tc.hang {
				p1.hang.Store(true)
			} else {
				p1.unhealthy.Store(true)
			}
			took := eventually(t, 10*bound, func() bool { return !backendUp(bl, "abc", "p1-abc") }, "p1 marked down")
			t.Logf("marked down after %v (bound %v + slack %v)", took, bound, slack)
			assert.LessOrEqual(t, took, bound+slack)
			// Counted, not timed: the backend answered at least fall failed
			// checks before the balancer gave up on it.
			assert.GreaterOrEqual(t, p1.failedHC.Load(), int64(tc.hc.Fall), "not before fall failed checks")
			assert.Equal(t, []string{"p2-abc", "p2-abc"}, backendsSeen(t, c, bl, src, 2, false))
		})
	}
}

func TestNoHealthChecksBrokenMode(t *testing.T) {
	c := newCerts(t)
	p1, p2 := startBackend(t, "p1-abc"), startBackend(t, "p2-abc")
	cfg := labConfig(c, []*testBackend{p1, p2}, []*testBackend{p1})
	cfg.Broken.NoHealthChecks = true
	bl := startLB(t, cfg)
	src := ""
	for i := 1; i <= 8 && src == ""; i++ {
		s := fmt.Sprintf("127.0.10.%d", i)
		if backendsSeen(t, c, bl, s, 1, false)[0] == "p1-abc" {
			src = s
		}
	}
	require.NotEmpty(t, src)
	p1.stop()
	for i := 0; i < 3; i++ {
		cl := client(c, src, bl.Addrs()[0].String(), false)
		resp, err := cl.Get("https://abc.test/")
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, 502, resp.StatusCode, "a dead backend keeps its clients without health checks")
	}
	assert.True(t, backendUp(bl, "abc", "p1-abc"))
}

func backendUp(bl *Balancer, pool, name string) bool {
	for _, p := range bl.Health().Pools {
		if p.Name != pool {
			continue
		}
		for _, b := range p.Backends {
			if b.Name == name {
				return b.Up
			}
		}
	}
	return false
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestCookieHashBrokenMode: persistence by a hash of the application's
// cookie follows the cookie's value, so regify's rotating session cookie
// moves one client between backends.
func TestCookieHashBrokenMode(t *testing.T) {
	c := newCerts(t)
	p1, p2 := startBackend(t, "p1-abc"), startBackend(t, "p2-abc")
	cfg := labConfig(c, []*testBackend{p1, p2}, []*testBackend{p1})
	cfg.Broken.CookieHash = "regify_session"
	bl := startLB(t, cfg)
	cl := client(c, "127.0.10.1", bl.Addrs()[0].String(), false)
	backendFor := func(token string) string {
		req := mustReq(t, "https://abc.test/")
		req.Header.Set("Cookie", "regify_session="+token)
		resp, err := cl.Do(req)
		require.NoError(t, err)
		readAll(t, resp)
		return resp.Header.Get("X-Regify-Backend")
	}
	var seen []string
	for i := 0; i < 12; i++ {
		tok := fmt.Sprintf("sid.%d.secret", i)
		b := backendFor(tok)
		assert.Equal(t, b, backendFor(tok), "one cookie value, one backend")
		seen = append(seen, b)
	}
	assert.Len(t, distinct(seen), 2, "a rotating cookie moves one client IP between backends: %v", seen)
}
