package load

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// stubTransport answers at once like a provider that rotates the token, so
// the benchmark measures only the client side: vegeta's pacing and workers,
// the targeter, the per-user jar and the recording.
type stubTransport struct{ n atomic.Int64 }

func (s *stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{}
	h.Set(headerProvider, "p1")
	h.Set(headerTenant, req.URL.Hostname())
	h.Set(headerSeen, `{"remote_addr":"127.0.10.1:5000","x_forwarded_proto":"https","tls":false}`)
	h.Add("Set-Cookie", SessionCookie+"=tok"+strconv.FormatInt(s.n.Add(1), 10)+"; Path=/; Secure; HttpOnly")
	status := http.StatusOK
	if req.Method == http.MethodPost && req.URL.Path == "/messages" {
		status = http.StatusCreated
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader("[]")), Request: req}, nil
}

// discard is a Sink that keeps nothing.
type discard struct{ n atomic.Int64 }

func (d *discard) Add(history.Request) int64 { return d.n.Add(1) }

// BenchmarkClientOverhead is the client-side cost of one request, without
// network or server.
func BenchmarkClientOverhead(b *testing.B) {
	domains := []history.Domain{
		{Name: "abc.test", HTTPS: "https://abc.test:8443/"},
		{Name: "def.test", HTTPS: "https://def.test:8443/"},
	}
	for _, users := range []int{1, 50} {
		b.Run("users="+strconv.Itoa(users), func(b *testing.B) {
			cfg := Config{Users: users, SourceIPs: sources(users), Domains: domains, CA: x509.NewCertPool(), Seed: 1}
			cfg.MaxRequests = uint64(b.N)
			cfg.Duration = time.Minute
			sink := &discard{}
			b.ReportAllocs()
			b.ResetTimer()
			err := run(context.Background(), cfg, sink, func(*Config, *user) http.RoundTripper { return &stubTransport{} })
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if got := sink.n.Load(); got != int64(b.N) {
				b.Fatalf("recorded %d of %d", got, b.N)
			}
		})
	}
}

// BenchmarkLoopbackTLS is one request end to end against the in-test fake
// provider over TLS on loopback (keep-alive connections, 20 users).
func BenchmarkLoopbackTLS(b *testing.B) {
	lab := newTestLab(b, newFakeProvider(), labOptions{})
	cfg := lab.config(20)
	cfg.MaxRequests = uint64(b.N)
	cfg.Duration = time.Minute
	sink := &discard{}
	b.ReportAllocs()
	b.ResetTimer()
	if err := Run(context.Background(), cfg, sink); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got := sink.n.Load(); got != int64(b.N) {
		b.Fatalf("recorded %d of %d", got, b.N)
	}
}
