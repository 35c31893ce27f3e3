package lb

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCertificateBySNIAndListeningIP(t *testing.T) {
	c := newCerts(t)
	a1, d1 := startBackend(t, "p1-abc"), startBackend(t, "p1-def")
	tests := []struct {
		name     string
		listener int
		sni      string
		broken   bool
		want     string
	}{
		{"SNI abc on IP A", 0, "abc.test", false, "abc.test"},
		{"SNI def on IP A", 0, "def.test", false, "def.test"},
		{"SNI def on IP B", 1, "def.test", false, "def.test"},
		{"no SNI on IP A", 0, "", false, "abc.test"},
		{"no SNI on IP B", 1, "", false, "def.test"},
		{"unknown SNI falls back to the IP's name", 1, "other.test", false, "def.test"},
		{"broken: wrong certificate", 0, "abc.test", true, "def.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := labConfig(c, []*testBackend{a1}, []*testBackend{d1})
			cfg.Broken.WrongCertificate = tc.broken
			bl := startLB(t, cfg)
			conn, err := tls.Dial("tcp", bl.Addrs()[tc.listener].String(), &tls.Config{ServerName: tc.sni, InsecureSkipVerify: tc.sni == "" || tc.broken || tc.sni == "other.test", RootCAs: c.ca.Pool()})
			require.NoError(t, err)
			defer conn.Close()
			assert.Equal(t, []string{tc.want}, certNames(t, conn.ConnectionState()))
		})
	}
}

func TestTLSVersionsAndALPN(t *testing.T) {
	c := newCerts(t)
	bl := startLB(t, labConfig(c, []*testBackend{startBackend(t, "p1")}, []*testBackend{startBackend(t, "p2")}))
	addr := bl.Addrs()[0].String()
	tests := []struct {
		name      string
		min, max  uint16
		protos    []string
		wantErr   bool
		wantProto string
	}{
		{"TLS 1.1 refused", tls.VersionTLS10, tls.VersionTLS11, nil, true, ""},
		{"TLS 1.2 accepted", tls.VersionTLS12, tls.VersionTLS12, []string{"http/1.1"}, false, "http/1.1"},
		{"TLS 1.3 with h2", tls.VersionTLS13, tls.VersionTLS13, []string{"h2", "http/1.1"}, false, "h2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "abc.test", RootCAs: c.ca.Pool(), MinVersion: tc.min, MaxVersion: tc.max, NextProtos: tc.protos})
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			defer conn.Close()
			assert.Equal(t, tc.wantProto, conn.ConnectionState().NegotiatedProtocol)
		})
	}
}

func TestForwardedHeadersReplaceClientValues(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	for _, h2 := range []bool{false, true} {
		for _, broken := range []bool{false, true} {
			name := map[bool]string{false: "h1", true: "h2"}[h2] + map[bool]string{false: "", true: " broken no X-Forwarded-Proto"}[broken]
			t.Run(name, func(t *testing.T) {
				cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
				cfg.Broken.NoForwardedProto = broken
				bl := startLB(t, cfg)
				cl := client(c, "127.0.10.7", bl.Addrs()[0].String(), h2)
				req, _ := http.NewRequest("GET", "https://abc.test/inbox?x=1", nil)
				req.Header.Set("X-Forwarded-For", "6.6.6.6")
				req.Header.Set("X-Forwarded-Proto", "http")
				req.Header.Set("X-Forwarded-Host", "evil.test")
				req.Header.Set("Forwarded", "for=6.6.6.6;proto=http")
				resp, err := cl.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				var s seen
				require.NoError(t, jsonDecode(resp.Body, &s))
				assert.Equal(t, "p1-abc", resp.Header.Get("X-Regify-Backend"))
				assert.Equal(t, "127.0.10.7", s.XFF)
				assert.Equal(t, "abc.test", s.XFH)
				assert.Equal(t, "abc.test", s.Host)
				if broken {
					assert.Empty(t, s.XFP)
					assert.Equal(t, `for=127.0.10.7;host="abc.test"`, s.Forwarded)
				} else {
					assert.Equal(t, "https", s.XFP)
					assert.Equal(t, `for=127.0.10.7;host="abc.test";proto=https`, s.Forwarded)
				}
				if h2 {
					assert.Equal(t, 2, resp.ProtoMajor)
				} else {
					assert.Equal(t, 1, resp.ProtoMajor)
				}
			})
		}
	}
}

func TestBackendHeaderSwitchable(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
	cfg.BackendHeader = ""
	bl := startLB(t, cfg)
	_, resp := getSeen(t, client(c, "127.0.10.1", bl.Addrs()[0].String(), false), "https://abc.test/")
	assert.Empty(t, resp.Header.Get("X-Regify-Backend"))
	assert.Equal(t, "p1-abc", resp.Header.Get("X-Test-Backend"))
}

func TestRedirectListener(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	tests := []struct {
		name   string
		mod    func(*Config)
		target string
		host   string
		code   int
		want   string
	}{
		{"308 keeps host path query", nil, "/messages/7?a=1&b=%20x", "abc.test:8080", 308, "https://abc.test:8443/messages/7?a=1&b=%20x"},
		{"other name on the same IP", nil, "/", "def.test", 308, "https://def.test:8443/"},
		{"301 configurable", func(c *Config) { c.Listeners[2].RedirectCode = 301 }, "/x?y", "abc.test", 301, "https://abc.test:8443/x?y"},
		{"port 443 omitted", func(c *Config) { c.Listeners[2].RedirectPort = 443 }, "/x", "abc.test", 308, "https://abc.test/x"},
		{"broken: drops the query", func(c *Config) { c.Broken.RedirectDropQuery = true }, "/x?y=1", "abc.test", 308, "https://abc.test:8443/x"},
		{"broken: wrong host", func(c *Config) { c.Broken.RedirectHost = "def.test" }, "/x?y=1", "abc.test", 308, "https://def.test:8443/x?y=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			bl := startLB(t, cfg)
			conn, err := net.Dial("tcp", bl.Addrs()[2].String())
			require.NoError(t, err)
			defer conn.Close()
			// Two requests on one connection: keep-alive works and nothing but the redirect comes back.
			for i := 0; i < 2; i++ {
				_, err = conn.Write([]byte("GET " + tc.target + " HTTP/1.1\r\nHost: " + tc.host + "\r\n\r\n"))
				require.NoError(t, err)
				resp, err := http.ReadResponse(bufioReader(conn), nil)
				require.NoError(t, err)
				body := readAll(t, resp)
				assert.Equal(t, tc.code, resp.StatusCode)
				assert.Equal(t, tc.want, resp.Header.Get("Location"))
				assert.Empty(t, body, "a redirect never carries content")
				assert.Empty(t, resp.Header.Get("X-Regify-Backend"))
			}
			assert.Zero(t, b.hits.Load(), "the redirect listener never reaches a backend")
		})
	}
}

func TestRedirectBrokenNoRedirectServesContent(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
	cfg.Broken.NoRedirect = true
	bl := startLB(t, cfg)
	resp, err := http.Get("http://" + bl.Addrs()[2].String() + "/inbox")
	require.NoError(t, err)
	body := readAll(t, resp)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, body, `"xfp":"http"`)
}

func TestRedirectRejectsBadHost(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	bl := startLB(t, labConfig(c, []*testBackend{b}, []*testBackend{b}))
	conn, err := net.Dial("tcp", bl.Addrs()[2].String())
	require.NoError(t, err)
	defer conn.Close()
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: evil.test/\"><x\r\n\r\n"))
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	_ = strings.TrimSpace
	_ = time.Second
}

// syncBuffer is a log sink safe for the balancer's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAccessLogNamesTheBackend(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	for _, h2 := range []bool{false, true} {
		var logs syncBuffer
		cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
		cfg.AccessLog = true
		bl, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		require.NoError(t, err)
		require.NoError(t, bl.Start(context.Background()))
		getSeen(t, client(c, "127.0.10.9", bl.Addrs()[0].String(), h2), "https://abc.test/inbox")
		require.NoError(t, bl.Shutdown(context.Background()))
		assert.Regexp(t, `msg=request client=127\.0\.10\.9 .*status=200 backend=p1-abc provider=p1-abc`, logs.String())
	}
}
