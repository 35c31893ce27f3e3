package lb

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/internal/pki"
)

// seen is what a test backend reports about the request it got.
type seen struct {
	Backend   string `json:"backend"`
	Remote    string `json:"remote"`
	Host      string `json:"host"`
	XFF       string `json:"xff"`
	XFP       string `json:"xfp"`
	XFH       string `json:"xfh"`
	Forwarded string `json:"forwarded"`
	Upgrade   string `json:"upgrade"`
	Expect    string `json:"expect"`
	Body      string `json:"body"`
	Proto     string `json:"proto"`
}

// testBackend is a provider stand-in on loopback that can be failed and
// revived on the same address.
type testBackend struct {
	t         *testing.T
	name      string
	addr      string
	unhealthy atomic.Bool
	hang      atomic.Bool
	failedHC  atomic.Int64 // health checks answered 503 or left hanging
	mu        sync.Mutex
	srv       *http.Server
	hits      atomic.Int64
	slow      atomic.Int64 // /slow requests in progress
}

func startBackend(t *testing.T, name string) *testBackend {
	t.Helper()
	b := &testBackend{t: t, name: name}
	b.start("127.0.0.1:0")
	t.Cleanup(b.stop)
	return b
}

func (b *testBackend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if b.hang.Load() { // accepts, never answers: only the check timeout notices
			b.failedHC.Add(1)
			<-r.Context().Done()
			return
		}
		if b.unhealthy.Load() {
			b.failedHC.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		b.slow.Add(1)
		defer b.slow.Add(-1)
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
		io.WriteString(w, "slow done "+b.name)
	})
	// /trickle?n=N&every=D&framing=length|chunked|close sends N bytes, one
	// every D, so a body takes N×D however fast the path is.
	mux.HandleFunc("/trickle", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n, _ := strconv.Atoi(q.Get("n"))
		every, _ := time.ParseDuration(q.Get("every"))
		var out io.Writer = w
		flush := w.(http.Flusher).Flush
		switch q.Get("framing") {
		case "length":
			w.Header().Set("Content-Length", strconv.Itoa(n))
		case "close": // no length, no chunks: the body ends when the backend closes
			conn, bw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			bw.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
			out, flush = bw, func() { bw.Flush() }
		}
		for i := 0; i < n; i++ {
			if i > 0 {
				select {
				case <-time.After(every):
				case <-r.Context().Done():
					return
				}
			}
			io.WriteString(out, "x")
			flush()
		}
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 3; i++ {
			io.WriteString(w, strings.Repeat("x", 1000))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/early", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		io.WriteString(w, "after hints")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Test-Backend", b.name)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen{
			Backend: b.name, Remote: r.RemoteAddr, Host: r.Host,
			XFF: strings.Join(r.Header.Values("X-Forwarded-For"), "|"), XFP: strings.Join(r.Header.Values("X-Forwarded-Proto"), "|"),
			XFH: strings.Join(r.Header.Values("X-Forwarded-Host"), "|"), Forwarded: strings.Join(r.Header.Values("Forwarded"), "|"),
			Upgrade: r.Header.Get("Upgrade"), Expect: r.Header.Get("Expect"), Body: string(body), Proto: r.Proto,
		})
	})
	return mux
}

func (b *testBackend) start(addr string) {
	b.t.Helper()
	var ln net.Listener
	var err error
	// Reviving on the same port can race a TIME_WAIT; bounded retries.
	for i := 0; i < 50; i++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(b.t, err)
	srv := &http.Server{Handler: b.handler(), ReadHeaderTimeout: 5 * time.Second}
	b.mu.Lock()
	b.addr, b.srv = ln.Addr().String(), srv
	b.mu.Unlock()
	go srv.Serve(ln)
}

// stop kills the backend: listener and every connection closed (a crash).
func (b *testBackend) stop() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (b *testBackend) revive() { b.start(b.addr) }

// certs for the two tenants, from one private CA.
type testCerts struct {
	ca       *pki.CA
	abc, def *pki.Leaf
}

func newCerts(t *testing.T) *testCerts {
	t.Helper()
	ca, err := pki.NewCA("lb test CA")
	require.NoError(t, err)
	abc, err := ca.Issue([]string{"abc.test"}, nil, time.Hour)
	require.NoError(t, err)
	def, err := ca.Issue([]string{"def.test"}, nil, time.Hour)
	require.NoError(t, err)
	return &testCerts{ca: ca, abc: abc, def: def}
}

// labConfig is the seed's plan on 127.0.0.1 with free ports: listener 0
// https abc, 1 https def, 2 redirect, and the given backends for abc and def.
func labConfig(c *testCerts, abc, def []*testBackend) Config {
	pool := func(name string, bs []*testBackend) Pool {
		p := Pool{Name: name} // Host comes from the listeners
		for _, b := range bs {
			p.Backends = append(p.Backends, Backend{Name: b.name, Address: b.addr, Provider: b.name})
		}
		return p
	}
	return Config{
		Listeners: []Listener{
			{Name: "abc-https", Mode: ModeHTTPS, Address: "127.0.0.1:0", Pool: "abc", Host: "abc.test"},
			{Name: "def-https", Mode: ModeHTTPS, Address: "127.0.0.1:0", Pool: "def", Host: "def.test"},
			{Name: "abc-http", Mode: ModeRedirect, Address: "127.0.0.1:0", Pool: "abc", Host: "abc.test", RedirectPort: 8443},
		},
		Pools: []Pool{pool("abc", abc), pool("def", def)},
		Certificates: []Certificate{
			{Names: []string{"abc.test"}, TLS: &c.abc.TLS},
			{Names: []string{"def.test"}, TLS: &c.def.TLS},
		},
		HealthCheck:   HealthCheck{Interval: 50 * time.Millisecond, Timeout: 50 * time.Millisecond, Rise: 2, Fall: 2},
		BackendHeader: "X-Regify-Backend",
		Admin:         "127.0.0.1:0",
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func startLB(t *testing.T, cfg Config) *Balancer {
	t.Helper()
	bl, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, bl.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		bl.Shutdown(ctx)
	})
	return bl
}

// client makes an HTTPS client that connects from source IP src to addr,
// presenting serverName as SNI and Host.
func client(c *testCerts, src, addr string, h2 bool) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		},
		TLSClientConfig:   &tls.Config{RootCAs: c.ca.Pool()},
		ForceAttemptHTTP2: h2,
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func getSeen(t *testing.T, cl *http.Client, url string) (seen, *http.Response) {
	t.Helper()
	resp, err := cl.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var s seen
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == 200 {
		require.NoError(t, json.Unmarshal(body, &s), "body %q", body)
	}
	return s, resp
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// eventually polls cond until it holds or the deadline passes; it returns
// how long it took.
func eventually(t *testing.T, within time.Duration, cond func() bool, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// goroutinesSettle waits until the goroutine count is back to base (or
// below); the deadline bounds the wait, it is not a sleep.
func goroutinesSettle(t *testing.T, base int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutine leak: %d now, %d before\n%s", n, base, buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func certNames(t *testing.T, cs tls.ConnectionState) []string {
	t.Helper()
	require.NotEmpty(t, cs.PeerCertificates)
	return cs.PeerCertificates[0].DNSNames
}

var _ = x509.NewCertPool

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func mustReq(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	return req
}
