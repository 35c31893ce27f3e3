package fakeprovider

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultPassword is the test password of every user unless configured.
const DefaultPassword = "regify"

// Broken switches the provider into deliberately wrong behaviour, for the
// harness's negative controls.
type Broken struct {
	NoRotate           bool // the session cookie never changes
	OldTokensValid     bool // rotation happens, but any earlier token of the session is still accepted
	NoProviderHeader   bool // X-Regify-Provider is missing
	HealthIgnoresStore bool // /health answers 200 even when the database is gone
	// SingleClearing uses only the first clearing endpoint (no redundant
	// clearing connection) and acknowledges a send whose clearing failed.
	SingleClearing bool
	// FailEvery answers every FailEvery-th inbox request with a 500 before
	// looking at it (0: never): a provider that errs now and then while its
	// health check stays green, so the balancer keeps sending users to it.
	FailEvery int
}

// Config configures one provider.
type Config struct {
	ID       string   // names the provider in X-Regify-Provider, e.g. "p1"
	Tenants  []string // served domains: main provider first, then sub-providers
	Password string   // every user's password; DefaultPassword when empty
	Store    Store    // sessions and messages; required
	// Clearing are the base URLs of the clearing endpoints, in order of
	// preference; empty means messages are not cleared (marked cleared at once).
	Clearing        []string
	ClearingTimeout time.Duration // per endpoint before failing over; 2s when 0
	// ShowSeen adds the X-Regify-Seen header to every response (the contract's
	// default is on: the CLI and the lab set it). /debug/seen works always.
	ShowSeen bool
	Broken   Broken
	// TLS maps tenant → certificate. When set, Start serves HTTPS and every
	// listener serves the certificate of its Bind's tenant (no offloading).
	TLS map[string]tls.Certificate
	// ProxyProtocol makes every listener require a PROXY protocol v1 or v2
	// header (a passthrough balancer sends it): the provider then sees the
	// client's address instead of the balancer's.
	ProxyProtocol bool
	Logger        *slog.Logger // nil: discard
	// HTTPClient talks to the clearing endpoints; nil: a private transport.
	HTTPClient *http.Client
}

// Provider is one fake regify provider appliance.
type Provider struct {
	cfg     Config
	tenants map[string]string // lower-case host → tenant as configured
	log     *slog.Logger
	client  *http.Client
	srv     *server
	h       http.Handler

	mu       sync.Mutex
	inflight map[string]chan struct{} // message key → done, serialises sends of one id
	inboxes  atomic.Int64             // inbox requests, for Broken.FailEvery
}

// New checks cfg and makes a provider; it listens only on Start or Serve.
func New(cfg Config) (*Provider, error) {
	if cfg.ID == "" {
		return nil, errors.New("new provider: ID is empty; name it, e.g. \"p1\"")
	}
	if cfg.Store == nil {
		return nil, fmt.Errorf("new provider %s: Store is nil; use NewMemoryStore() or NewMySQLStore", cfg.ID)
	}
	if len(cfg.Tenants) == 0 {
		return nil, fmt.Errorf("new provider %s: no tenants; give at least one domain, e.g. abc.test", cfg.ID)
	}
	p := &Provider{cfg: cfg, tenants: map[string]string{}, inflight: map[string]chan struct{}{}}
	for _, t := range cfg.Tenants {
		host := normalizeHost(t)
		if host == "" || !validHost(host) {
			return nil, fmt.Errorf("new provider %s: tenant %q is not a host name", cfg.ID, t)
		}
		if _, dup := p.tenants[host]; dup {
			return nil, fmt.Errorf("new provider %s: tenant %q given twice", cfg.ID, t)
		}
		p.tenants[host] = host
	}
	for _, u := range cfg.Clearing {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("new provider %s: clearing URL %q must start with http:// or https://", cfg.ID, u)
		}
	}
	if p.cfg.Password == "" {
		p.cfg.Password = DefaultPassword
	}
	if p.cfg.ClearingTimeout <= 0 {
		p.cfg.ClearingTimeout = 2 * time.Second
	}
	p.log = cfg.Logger
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("provider", cfg.ID)
	p.client = cfg.HTTPClient
	if p.client == nil {
		p.client = &http.Client{Transport: &http.Transport{
			Proxy:               nil, // clearing is on loopback or a known host, never via a proxy
			DialContext:         (&net.Dialer{Timeout: p.cfg.ClearingTimeout}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		}}
	}
	p.h = p.routes()
	p.srv = newServer("provider "+cfg.ID, p.log, p.h)
	if cfg.TLS != nil {
		p.srv.tlsFor = p.TLSConfig
	}
	if cfg.ProxyProtocol {
		p.srv.proxyProtocol = true
	}
	return p, nil
}

// ID is the provider's name.
func (p *Provider) ID() string { return p.cfg.ID }

// Handler is the provider's HTTP handler (without the hang/delay faults).
func (p *Provider) Handler() http.Handler { return p.h }

// TLSConfig is the server TLS configuration of a listener bound for
// b.Tenant: it always presents that tenant's certificate, whatever SNI the
// client sends, as an appliance with one certificate per internal IP does.
func (p *Provider) TLSConfig(b Bind) (*tls.Config, error) {
	t := normalizeHost(b.Tenant)
	if t == "" {
		return nil, fmt.Errorf("TLS listener %s: no tenant; say whose certificate it serves", b.Addr)
	}
	cert, ok := p.cfg.TLS[t]
	if !ok {
		cert, ok = p.cfg.TLS[b.Tenant]
	}
	if !ok {
		return nil, fmt.Errorf("TLS listener %s: no certificate for tenant %q", b.Addr, b.Tenant)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Start listens on binds and serves in the background; with no binds it
// listens again on the addresses of the previous Start (restart after Kill).
func (p *Provider) Start(ctx context.Context, binds ...Bind) error { return p.srv.Start(ctx, binds...) }

// Listen is Start with plain addresses.
func (p *Provider) Listen(ctx context.Context, addrs ...string) error {
	return p.srv.Start(ctx, Binds(addrs...)...)
}

// Serve serves plain HTTP on ln until ctx ends, then stops gracefully.
func (p *Provider) Serve(ctx context.Context, ln net.Listener) error { return p.srv.Serve(ctx, ln) }

// Addrs returns the addresses of the last Start.
func (p *Provider) Addrs() []string { return p.srv.Addrs() }

// Kill closes all listeners and live connections at once and cancels the
// requests in flight (their database writes and clearing calls), like a
// crash. Start with no arguments restarts it on the same addresses.
func (p *Provider) Kill() { p.srv.Kill() }

// Close stops gracefully within ctx.
func (p *Provider) Close(ctx context.Context) error { return p.srv.Close(ctx) }

// SetHang makes the provider accept requests and never answer until unhung.
func (p *Provider) SetHang(on bool) { p.srv.SetHang(on) }

// Hanging reports how many requests are waiting in a hang right now.
func (p *Provider) Hanging() int { return int(p.srv.hanging.Load()) }

// SetDelay delays every answer by d.
func (p *Provider) SetDelay(d time.Duration) { p.srv.SetDelay(d) }

// normalizeHost strips the port and a trailing dot and lower-cases.
func normalizeHost(h string) string {
	if h == "" {
		return ""
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// validHost accepts DNS names and IP literals, nothing else.
func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
