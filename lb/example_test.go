package lb_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/regify-verify/regify-verify/lb"
)

// The lab's balancer: the seed's IP plan, in-memory certificates, the
// backends being the toxiproxy listeners in front of each provider.
func Example() {
	var abcCert, defCert tls.Certificate // from internal/pki in the lab
	cfg := lb.Config{
		Listeners: []lb.Listener{
			{Name: "abc-https", Mode: lb.ModeHTTPS, Address: "127.0.1.1:0", Pool: "abc", Host: "abc.test"},
			{Name: "def-https", Mode: lb.ModeHTTPS, Address: "127.0.1.2:0", Pool: "def", Host: "def.test"},
			{Name: "abc-http", Mode: lb.ModeRedirect, Address: "127.0.1.1:0", Host: "abc.test", RedirectPort: 8443},
			{Name: "def-http", Mode: lb.ModeRedirect, Address: "127.0.1.2:0", Host: "def.test", RedirectPort: 8443},
		},
		Pools: []lb.Pool{
			{Name: "abc", Host: "abc.test", Backends: []lb.Backend{
				{Name: "p1-abc", Address: "127.0.2.1:8000", Provider: "p1"},
				{Name: "p2-abc", Address: "127.0.2.3:8000", Provider: "p2"},
			}},
			{Name: "def", Host: "def.test", Backends: []lb.Backend{
				{Name: "p1-def", Address: "127.0.2.2:8000", Provider: "p1"},
				{Name: "p2-def", Address: "127.0.2.4:8000", Provider: "p2"},
			}},
		},
		Certificates: []lb.Certificate{
			{Names: []string{"abc.test"}, TLS: &abcCert},
			{Names: []string{"def.test"}, TLS: &defCert},
		},
		HealthCheck:   lb.HealthCheck{Interval: 500 * time.Millisecond, Timeout: 300 * time.Millisecond, Rise: 2, Fall: 2},
		Timeouts:      lb.Timeouts{Backend: 5 * time.Second},
		BackendHeader: "X-Regify-Backend",
		// Broken: lb.Broken{RoundRobin: true}, // a negative control
	}
	b, err := lb.New(cfg, slog.Default())
	if err != nil {
		fmt.Println(err)
		return
	}
	// b.Start(ctx) listens on every address (b.Addrs() has the real ports);
	// b.Health() and the Admin endpoint show pools, health and the affinity
	// table; b.Pinned(pool, ip) tells where a client is pinned;
	// b.Shutdown(ctx) drains, closing hard when ctx ends.
	_ = context.Background
	fmt.Println(len(b.Addrs()), "listening before Start;", len(cfg.Listeners), "listeners configured")
	// Output: 0 listening before Start; 4 listeners configured
}
