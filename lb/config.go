// Package lb is the built-in sticky balancer: HTTPS offloading per public IP,
// an http→https redirect listener, TLS passthrough with optional PROXY
// protocol, pools per tenant, source-IP persistence, active and passive health
// checks, forwarded headers, and broken-on-purpose modes for negative controls.
package lb

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Listener modes.
const (
	ModeHTTPS       = "https"       // TLS offloading, proxies plain HTTP to the pool
	ModeRedirect    = "redirect"    // plain HTTP, answers every request with a redirect to https
	ModePassthrough = "passthrough" // TCP proxy to the pool, TLS ends at the provider
	ModeHTTP        = "http"        // plain HTTP proxy (content over http; only for negative controls)
)

// Config is the whole balancer. The lab builds it in Go; the standalone
// command loads it from YAML with LoadConfig.
type Config struct {
	// Listeners: one or more per public IP.
	Listeners []Listener `yaml:"listeners"`
	// Pools: one per tenant, referenced by Listener.Pool.
	Pools []Pool `yaml:"pools"`
	// Certificates for HTTPS listeners, chosen by SNI.
	Certificates []Certificate `yaml:"certificates"`
	// Persistence is the source-IP affinity table.
	Persistence Persistence `yaml:"persistence"`
	// HealthCheck is the active check run against every backend.
	HealthCheck HealthCheck `yaml:"health_check"`
	// Timeouts at the edge and towards the backends.
	Timeouts Timeouts `yaml:"timeouts"`
	// TLS options shared by all HTTPS listeners.
	TLS TLSOptions `yaml:"tls"`
	// MaxHeaderBytes bounds a request head; larger gets 431. Default 16 KiB.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// BackendHeader, when set (e.g. "X-Regify-Backend"), names the backend
	// that served each response in this response header.
	BackendHeader string `yaml:"backend_header"`
	// AccessLog logs one slog line per proxied request (client, host, path,
	// status, backend). Off by default: it costs throughput.
	AccessLog bool `yaml:"access_log"`
	// Admin is the address of the JSON admin endpoint ("" = off).
	Admin string `yaml:"admin"`
	// Broken switches on deliberately wrong behaviour for negative controls.
	Broken Broken `yaml:"broken"`
}

// Listener is one listening socket on a public IP.
type Listener struct {
	Name string `yaml:"name"`
	// Mode is https, redirect, passthrough or http.
	Mode string `yaml:"mode"`
	// Address is ip:port; port 0 picks a free one (see Balancer.Addrs).
	Address string `yaml:"address"`
	// Pool names the tenant's pool (not used by redirect listeners).
	Pool string `yaml:"pool"`
	// Host is the public name served on this IP: the certificate for
	// clients without SNI, and the redirect host for requests without Host.
	Host string `yaml:"host"`
	// RedirectCode is 308 (default) or 301.
	RedirectCode int `yaml:"redirect_code"`
	// RedirectPort is the https port written into redirects (0 or 443: none).
	RedirectPort int `yaml:"redirect_port"`
	// ProxyProtocol is 0 (off), 1 or 2, for passthrough listeners.
	ProxyProtocol int `yaml:"proxy_protocol"`
	// Open, when set, is an already listening socket to serve on instead
	// of listening on Address (which then only names it): a caller that
	// must know the port before the balancer starts keeps it reserved with
	// no window for another process to take it. Start takes ownership.
	Open net.Listener `yaml:"-"`
}

// Pool is the set of internal IPs serving one tenant.
type Pool struct {
	Name string `yaml:"name"`
	// Host is sent as the Host header of health checks (the fake provider
	// picks the tenant by Host).
	Host     string    `yaml:"host"`
	Backends []Backend `yaml:"backends"`
}

// Backend is one provider's internal IP for a tenant.
type Backend struct {
	Name     string `yaml:"name"`
	Address  string `yaml:"address"`
	Provider string `yaml:"provider"`
}

// Certificate is a server certificate for some names: either files (YAML) or
// an in-memory certificate (Go).
type Certificate struct {
	Names    []string         `yaml:"names"`
	CertFile string           `yaml:"cert_file"`
	KeyFile  string           `yaml:"key_file"`
	TLS      *tls.Certificate `yaml:"-"`
}

// Persistence configures the source-IP affinity table.
type Persistence struct {
	// IdleTimeout drops a client's pin after this long without requests. Default 30m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxEntries bounds the table per pool. Default 1,000,000.
	MaxEntries int `yaml:"max_entries"`
	// IPv4Mask is the prefix length clients are grouped by: 32 (default) or 24.
	IPv4Mask int `yaml:"ipv4_mask"`
	// IPv6Mask likewise for IPv6, default 128.
	IPv6Mask int `yaml:"ipv6_mask"`
}

// HealthCheck is the active HTTP check.
type HealthCheck struct {
	Path     string        `yaml:"path"`     // default /health
	Interval time.Duration `yaml:"interval"` // default 2s
	Timeout  time.Duration `yaml:"timeout"`  // default 1s
	Rise     int           `yaml:"rise"`     // successes to come back up, default 2
	Fall     int           `yaml:"fall"`     // failures to go down, default 3
}

// Timeouts at the edge and to the backends.
type Timeouts struct {
	ReadHeader time.Duration `yaml:"read_header"` // whole request head, default 10s
	Idle       time.Duration `yaml:"idle"`        // keep-alive wait for the next request, default 60s
	Handshake  time.Duration `yaml:"handshake"`   // TLS handshake, default 10s
	Connect    time.Duration `yaml:"connect"`     // dial a backend, default 3s
	Backend    time.Duration `yaml:"backend"`     // wait for a backend's response head, default 30s
	// PassthroughIdle closes a passthrough connection (both ways) after this
	// long without a byte in either direction; a transfer that keeps moving
	// is never cut. The balancer cannot see requests in opaque bytes, so this
	// is the whole bound on an idle or slowloris client. Default 60s.
	PassthroughIdle time.Duration `yaml:"passthrough_idle"`
}

// TLSOptions shared by HTTPS listeners.
type TLSOptions struct {
	// DisableResumption turns off session tickets (and so every resumption):
	// each connection does a full handshake. For benchmarks.
	DisableResumption bool `yaml:"disable_resumption"`
	// DisableHTTP2 offers only http/1.1 in ALPN.
	DisableHTTP2 bool `yaml:"disable_http2"`
}

// Broken holds the deliberately wrong behaviours the negative controls need.
type Broken struct {
	RoundRobin   bool `yaml:"round_robin"`   // ignore the client IP, rotate per request
	CookieInsert bool `yaml:"cookie_insert"` // persist by an inserted cookie instead of the source IP
	// CookieHash persists by a hash of the named application cookie (as
	// HAProxy's "balance hdr(Cookie)" or a stick table on the cookie do).
	// regify's session cookie changes on every response, so this moves
	// clients between providers: the seed's reason for source-IP persistence.
	CookieHash        string `yaml:"cookie_hash"`
	NoRedirect        bool   `yaml:"no_redirect"`         // redirect listeners serve content over http
	RedirectDropQuery bool   `yaml:"redirect_drop_query"` // redirect without the query string
	RedirectHost      string `yaml:"redirect_host"`       // redirect to this host instead of the requested one
	NoForwardedProto  bool   `yaml:"no_forwarded_proto"`  // omit X-Forwarded-Proto and Forwarded proto=
	WrongCertificate  bool   `yaml:"wrong_certificate"`   // serve a certificate of another name
	NoHealthChecks    bool   `yaml:"no_health_checks"`    // no active or passive checks: dead backends keep traffic
}

// CookieName is the cookie the broken cookie-insert mode sets.
const CookieName = "REGIFYLB"

// persistCookie names the cookie a broken persistence mode reads, or "".
func (b Broken) persistCookie() string {
	switch {
	case b.CookieHash != "":
		return b.CookieHash
	case b.CookieInsert:
		return CookieName
	}
	return ""
}

// ConfigError names the field of a bad config, and its line when it came
// from a file.
type ConfigError struct {
	Field string // e.g. listeners[1].address
	Line  int    // 0 when unknown
	Err   error
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("config field %s (line %d): %v", e.Field, e.Line, e.Err)
	}
	return fmt.Sprintf("config field %s: %v", e.Field, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

func fieldErr(field string, format string, args ...any) error {
	return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
}

// withDefaults returns a copy with every zero value filled in.
func (c Config) withDefaults() Config {
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = 16 << 10
	}
	p := &c.Persistence
	if p.IdleTimeout == 0 {
		p.IdleTimeout = 30 * time.Minute
	}
	if p.MaxEntries == 0 {
		p.MaxEntries = 1_000_000
	}
	if p.IPv4Mask == 0 {
		p.IPv4Mask = 32
	}
	if p.IPv6Mask == 0 {
		p.IPv6Mask = 128
	}
	h := &c.HealthCheck
	if h.Path == "" {
		h.Path = "/health"
	}
	if h.Interval == 0 {
		h.Interval = 2 * time.Second
	}
	if h.Timeout == 0 {
		h.Timeout = time.Second
	}
	if h.Rise == 0 {
		h.Rise = 2
	}
	if h.Fall == 0 {
		h.Fall = 3
	}
	t := &c.Timeouts
	if t.ReadHeader == 0 {
		t.ReadHeader = 10 * time.Second
	}
	if t.Idle == 0 {
		t.Idle = 60 * time.Second
	}
	if t.Handshake == 0 {
		t.Handshake = 10 * time.Second
	}
	if t.Connect == 0 {
		t.Connect = 3 * time.Second
	}
	if t.Backend == 0 {
		t.Backend = 30 * time.Second
	}
	if t.PassthroughIdle == 0 {
		t.PassthroughIdle = 60 * time.Second
	}
	// A pool without a Host borrows the public name of a listener using it:
	// providers pick the tenant by Host, so health checks need the name.
	c.Pools = append([]Pool(nil), c.Pools...)
	for i := range c.Pools {
		for _, l := range c.Listeners {
			if c.Pools[i].Host == "" && l.Pool == c.Pools[i].Name && l.Host != "" {
				c.Pools[i].Host = l.Host
			}
		}
	}
	c.Listeners = append([]Listener(nil), c.Listeners...)
	for i := range c.Listeners {
		l := &c.Listeners[i]
		if l.RedirectCode == 0 {
			l.RedirectCode = 308
		}
		if l.Name == "" {
			l.Name = fmt.Sprintf("%s-%s", l.Mode, l.Address)
		}
	}
	return c
}

// Validate checks a config (after defaults) and returns a *ConfigError
// naming the first bad field.
func (c Config) Validate() error {
	return c.withDefaults().validate()
}

func (c Config) validate() error {
	if len(c.Listeners) == 0 {
		return fieldErr("listeners", "at least one listener is needed")
	}
	pools := map[string]bool{}
	for i, p := range c.Pools {
		f := fmt.Sprintf("pools[%d]", i)
		if p.Name == "" {
			return fieldErr(f+".name", "must not be empty")
		}
		if pools[p.Name] {
			return fieldErr(f+".name", "pool %q defined twice", p.Name)
		}
		pools[p.Name] = true
		if len(p.Backends) == 0 {
			return fieldErr(f+".backends", "pool %q has no backends", p.Name)
		}
		if len(p.Backends) > 1<<15 {
			return fieldErr(f+".backends", "too many backends")
		}
		names := map[string]bool{}
		for j, b := range p.Backends {
			bf := fmt.Sprintf("%s.backends[%d]", f, j)
			if b.Name == "" {
				return fieldErr(bf+".name", "must not be empty")
			}
			if names[b.Name] {
				return fieldErr(bf+".name", "backend %q twice in pool %q", b.Name, p.Name)
			}
			names[b.Name] = true
			if _, _, err := net.SplitHostPort(b.Address); err != nil {
				return fieldErr(bf+".address", "want host:port: %v", err)
			}
		}
	}
	hasTLS := false
	for i, l := range c.Listeners {
		f := fmt.Sprintf("listeners[%d]", i)
		if _, err := netip.ParseAddrPort(l.Address); err != nil {
			return fieldErr(f+".address", "want ip:port (e.g. 127.0.1.1:8443): %v", err)
		}
		switch l.Mode {
		case ModeHTTPS:
			hasTLS = true
		case ModeRedirect:
			if l.RedirectCode != 301 && l.RedirectCode != 308 {
				return fieldErr(f+".redirect_code", "want 301 or 308, got %d", l.RedirectCode)
			}
			if l.RedirectPort < 0 || l.RedirectPort > 65535 {
				return fieldErr(f+".redirect_port", "out of range: %d", l.RedirectPort)
			}
		case ModePassthrough:
			if l.ProxyProtocol < 0 || l.ProxyProtocol > 2 {
				return fieldErr(f+".proxy_protocol", "want 0, 1 or 2, got %d", l.ProxyProtocol)
			}
		case ModeHTTP:
		default:
			return fieldErr(f+".mode", "want https, redirect, passthrough or http, got %q", l.Mode)
		}
		needsPool := l.Mode != ModeRedirect || c.Broken.NoRedirect
		if needsPool && !pools[l.Pool] {
			if l.Pool == "" {
				return fieldErr(f+".pool", "a %s listener needs a pool", l.Mode)
			}
			return fieldErr(f+".pool", "no pool named %q", l.Pool)
		}
	}
	if hasTLS && len(c.Certificates) == 0 {
		return fieldErr("certificates", "https listeners need at least one certificate")
	}
	for i, ct := range c.Certificates {
		f := fmt.Sprintf("certificates[%d]", i)
		if len(ct.Names) == 0 {
			return fieldErr(f+".names", "must list at least one name")
		}
		if ct.TLS == nil && (ct.CertFile == "" || ct.KeyFile == "") {
			return fieldErr(f+".cert_file", "cert_file and key_file are both required")
		}
	}
	p := c.Persistence
	if p.IPv4Mask != 32 && p.IPv4Mask != 24 {
		return fieldErr("persistence.ipv4_mask", "want 32 or 24, got %d", p.IPv4Mask)
	}
	if p.IPv6Mask < 1 || p.IPv6Mask > 128 {
		return fieldErr("persistence.ipv6_mask", "want 1..128, got %d", p.IPv6Mask)
	}
	if p.MaxEntries < 0 {
		return fieldErr("persistence.max_entries", "must not be negative")
	}
	if p.IdleTimeout < 0 {
		return fieldErr("persistence.idle_timeout", "must not be negative")
	}
	h := c.HealthCheck
	if !strings.HasPrefix(h.Path, "/") {
		return fieldErr("health_check.path", "must start with /, got %q", h.Path)
	}
	if h.Interval < 0 || h.Timeout < 0 {
		return fieldErr("health_check.interval", "must not be negative")
	}
	if h.Rise < 1 {
		return fieldErr("health_check.rise", "must be at least 1")
	}
	if h.Fall < 1 {
		return fieldErr("health_check.fall", "must be at least 1")
	}
	if c.Timeouts.PassthroughIdle < 0 {
		return fieldErr("timeouts.passthrough_idle", "must not be negative, got %v", c.Timeouts.PassthroughIdle)
	}
	if c.MaxHeaderBytes < 1024 {
		return fieldErr("max_header_bytes", "must be at least 1024, got %d", c.MaxHeaderBytes)
	}
	if c.Admin != "" {
		if _, _, err := net.SplitHostPort(c.Admin); err != nil {
			return fieldErr("admin", "want host:port: %v", err)
		}
	}
	if c.BackendHeader != "" && strings.ContainsAny(c.BackendHeader, " \t\r\n:") {
		return fieldErr("backend_header", "not a header name: %q", c.BackendHeader)
	}
	if c.Broken.RoundRobin && c.Broken.CookieInsert {
		return fieldErr("broken.cookie_insert", "round_robin and cookie_insert exclude each other")
	}
	if c.Broken.CookieHash != "" && (c.Broken.RoundRobin || c.Broken.CookieInsert) {
		return fieldErr("broken.cookie_hash", "cookie_hash excludes round_robin and cookie_insert")
	}
	return nil
}

var errNoHealthy = errors.New("no healthy backend")
