package lb

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// healthTLSBackend answers /health over TLS after a PROXY header of the
// given version (LOCAL included), like a passthrough provider. It returns
// its address and a function that stops it.
func healthTLSBackend(t *testing.T, cert tls.Certificate, proxyVersion int) (string, func()) {
	return serveTLSBackend(t, cert, proxyVersion, func(tc *tls.Conn, _ string, req *http.Request) {
		if req.URL.Path == "/health" {
			fmt.Fprintf(tc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		}
	})
}

// TestPassthroughHealthChecks: behind a passthrough listener the backends
// speak TLS (after a PROXY header), so the active checks must too; a plain
// HTTP check would mark every healthy provider down.
func TestPassthroughHealthChecks(t *testing.T) {
	c := newCerts(t)
	for _, version := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("proxy protocol %d", version), func(t *testing.T) {
			b1, stop1 := healthTLSBackend(t, c.abc.TLS, version)
			b2, _ := healthTLSBackend(t, c.abc.TLS, version)
			hc := HealthCheck{Interval: 50 * time.Millisecond, Timeout: 500 * time.Millisecond, Rise: 1, Fall: 2}
			bl := startLB(t, Config{
				Listeners: []Listener{{Name: "abc-pass", Mode: ModePassthrough, Address: "127.0.0.1:0", Pool: "abc", Host: "abc.test", ProxyProtocol: version}},
				Pools: []Pool{{Name: "abc", Backends: []Backend{
					{Name: "p1-abc", Address: b1, Provider: "p1"}, {Name: "p2-abc", Address: b2, Provider: "p2"},
				}}},
				HealthCheck: hc,
			})
			up := func() map[string]bool {
				out := map[string]bool{}
				for _, b := range bl.Health().Pools[0].Backends {
					out[b.Name] = b.Up
				}
				return out
			}
			// Several check rounds pass: a check that failed twice would
			// have marked the backend down by now.
			ctx, cancel := context.WithTimeout(context.Background(), 10*hc.Interval)
			defer cancel()
			<-ctx.Done()
			require.Equal(t, map[string]bool{"p1-abc": true, "p2-abc": true}, up(), "healthy TLS backends stay up")

			stop1()
			require.Eventually(t, func() bool { return !up()["p1-abc"] }, 5*time.Second, 10*time.Millisecond, "a dead backend goes down")
			require.True(t, up()["p2-abc"])
		})
	}
}
