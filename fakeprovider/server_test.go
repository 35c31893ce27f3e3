package fakeprovider

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/internal/pki"
)

// get makes one request with a fresh connection and Host set.
func get(ctx context.Context, client *http.Client, scheme, addr, host, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", scheme+"://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp, nil
}

func plainClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 5 * time.Second}
}

func TestStartKillRestartClose(t *testing.T) {
	base := runtime.NumGoroutine()
	p := newTestProvider(t, Config{})
	ctx := context.Background()
	require.NoError(t, p.Listen(ctx, "127.0.2.1:0", "127.0.2.2:0"))
	addrs := p.Addrs()
	require.Len(t, addrs, 2)
	client := plainClient()
	for _, a := range addrs {
		resp, err := get(ctx, client, "http", a, "abc.test", "/health")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
	}
	require.Error(t, p.Start(ctx), "a second Start while running is refused")

	// A live keep-alive connection dies with Kill.
	conn, err := net.Dial("tcp", addrs[0])
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET /health HTTP/1.1\r\nHost: abc.test\r\n\r\n"))
	require.NoError(t, err)
	buf := make([]byte, 4096)
	_, err = conn.Read(buf)
	require.NoError(t, err)
	p.Kill()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, err = io.ReadAll(conn)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "Kill must close live connections, not leave them open")
	for _, a := range addrs {
		_, err := get(ctx, client, "http", a, "abc.test", "/health")
		require.Error(t, err, "nothing listens after Kill")
	}

	require.NoError(t, p.Start(ctx), "restart on the same addresses")
	assert.Equal(t, addrs, p.Addrs())
	for _, a := range addrs {
		resp, err := get(ctx, client, "http", a, "abc.test", "/health")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, p.Close(cctx))
	client.CloseIdleConnections()
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base+1 })
}

func TestHangIsBounded(t *testing.T) {
	p := newTestProvider(t, Config{})
	ctx := context.Background()
	require.NoError(t, p.Listen(ctx, "127.0.0.1:0"))
	addr := p.Addrs()[0]
	client := plainClient()

	p.SetHang(true)
	t.Run("the client gives up", func(t *testing.T) {
		rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := get(rctx, client, "http", addr, "abc.test", "/health")
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("unhang answers a waiting request", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			resp, err := get(ctx, client, "http", addr, "abc.test", "/health")
			if err == nil && resp.StatusCode != 200 {
				err = errors.New(resp.Status)
			}
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("answered while hung: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		p.SetHang(false)
		require.NoError(t, <-done)
	})
	t.Run("Close ends hanging requests", func(t *testing.T) {
		p.SetHang(true)
		done := make(chan error, 1)
		go func() {
			_, err := get(ctx, client, "http", addr, "abc.test", "/health")
			done <- err
		}()
		eventually(t, "the request to reach the server", func() bool {
			p.srv.gateMu.Lock()
			defer p.srv.gateMu.Unlock()
			return p.srv.hang != nil
		})
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		start := time.Now()
		require.NoError(t, p.Close(cctx))
		assert.Less(t, time.Since(start), 2*time.Second)
		select {
		case err := <-done:
			require.Error(t, err, "a hanging request gets no answer")
		case <-time.After(3 * time.Second):
			t.Fatal("hanging request outlived Close")
		}
	})
}

func TestDelay(t *testing.T) {
	p := newTestProvider(t, Config{})
	ctx := context.Background()
	require.NoError(t, p.Listen(ctx, "127.0.0.1:0"))
	p.SetDelay(150 * time.Millisecond)
	start := time.Now()
	resp, err := get(ctx, plainClient(), "http", p.Addrs()[0], "abc.test", "/health")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
}

func TestTLSEachListenerServesItsTenantsCertificate(t *testing.T) {
	ca, err := pki.NewCA("test")
	require.NoError(t, err)
	certs := map[string]tls.Certificate{}
	for _, name := range []string{"abc.test", "def.test"} {
		leaf, err := ca.Issue([]string{name}, nil, time.Hour)
		require.NoError(t, err)
		certs[name] = leaf.TLS
	}
	p := newTestProvider(t, Config{TLS: certs, ShowSeen: true})
	ctx := context.Background()
	require.NoError(t, p.Start(ctx, Bind{Addr: "127.0.2.1:0", Tenant: "abc.test"}, Bind{Addr: "127.0.2.2:0", Tenant: "def.test"}))
	addrs := p.Addrs()

	client := func(sni string) *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil,
			TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: sni}}}
	}
	tests := []struct {
		addr, sni string
		ok        bool
	}{
		{addrs[0], "abc.test", true},
		{addrs[1], "def.test", true},
		{addrs[0], "def.test", false}, // internal IP A never shows DEF's certificate
		{addrs[1], "abc.test", false},
	}
	for _, tt := range tests {
		resp, err := get(ctx, client(tt.sni), "https", tt.addr, tt.sni, "/debug/seen")
		if !tt.ok {
			require.Error(t, err, "%s with SNI %s", tt.addr, tt.sni)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.sni, resp.Header.Get(HeaderTenant))
		assert.Contains(t, resp.Header.Get(HeaderSeen), `"tls":true`)
	}

	_, err = New(Config{ID: "p", Tenants: []string{"abc.test"}, Store: NewMemoryStore(), TLS: certs})
	require.NoError(t, err)
	err = p.Close(ctx)
	require.NoError(t, err)
	err = p.Start(ctx, Bind{Addr: "127.0.0.1:0"})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "tenant"), err.Error())
}

func TestKillAbandonsASendInFlightAndTheRetryClearsOnce(t *testing.T) {
	c1 := startClearing(t, "c1")
	store := NewMemoryStore()
	p := newTestProvider(t, Config{Store: store, Clearing: []string{c1.URL()}, ClearingTimeout: 10 * time.Second})
	ctx := context.Background()
	require.NoError(t, p.Listen(ctx, "127.0.0.1:0"))
	u := newUser(t, p.Handler(), "abc.test", "alice")
	u.login()

	c1.SetHang(true)
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+p.Addrs()[0]+"/messages",
			strings.NewReader("id=m1&body=x"))
		req.Host = "abc.test"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: CookieName, Value: u.cookie})
		resp, err := plainClient().Do(req)
		if err == nil {
			_ = resp.Body.Close()
			err = errors.New("answered: " + resp.Status)
		}
		done <- err
	}()
	eventually(t, "the clearing call to hang", func() bool { return c1.Hanging() == 1 })
	p.Kill()
	require.Error(t, <-done, "the client of a crashed provider gets no answer")
	eventually(t, "the abandoned clearing call to end", func() bool { return c1.Hanging() == 0 })
	c1.SetHang(false)

	m, err := store.Message(ctx, "abc.test", "m1")
	require.NoError(t, err, "stored before the crash")
	assert.False(t, m.Cleared)
	assert.Empty(t, c1.Transactions(), "the abandoned clearing was not recorded")

	require.NoError(t, p.Start(ctx))
	v := newUser(t, p.Handler(), "abc.test", "alice")
	v.login()
	require.Equal(t, 200, v.send("m1", "x").Code, "the retry clears the stored message")
	require.Equal(t, 200, v.send("m1", "x").Code)
	assert.Equal(t, map[string]int{"abc.test/m1": 1}, c1.Counts())
}
