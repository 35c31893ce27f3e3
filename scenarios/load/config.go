package load

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// SessionCookie is the name of regify's rotating session cookie.
const SessionCookie = "regify_session"

// UserHeader marks which simulated user a vegeta target belongs to. The
// client's round tripper strips it before the request leaves the process.
const UserHeader = "X-Regify-Verify-User"

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Sink receives every recorded request. *history.Recorder is one (its Add
// returns the assigned Seq, hence the int64); Add must be safe for
// concurrent use. Requests aborted by cancelling Run's ctx are recorded too,
// with Err "context canceled".
type Sink interface {
	Add(history.Request) int64
}

// DialFunc opens a connection from the local address to addr ("name:port").
// It replaces name resolution: the lab's names are not in DNS.
type DialFunc func(ctx context.Context, local netip.Addr, network, addr string) (net.Conn, error)

// Mix weighs the operations a logged-in user picks. Logout is followed by a
// login at the user's next turn.
type Mix struct {
	Inbox  int
	Send   int
	Read   int
	Logout int
}

// DefaultMix is used when Config.Mix is the zero value.
var DefaultMix = Mix{Inbox: 50, Send: 30, Read: 17, Logout: 3}

// ReadOnlyMix sends nothing: users log in, list their inbox and log out.
// Reads need the id of a message the user sent, so without sends a read
// would list the inbox anyway. Target mode uses it unless the operator
// allows writes.
var ReadOnlyMix = Mix{Inbox: 97, Logout: 3}

func (m Mix) total() int { return m.Inbox + m.Send + m.Read + m.Logout }

// Paths are where a user logs in and lists its inbox, below a domain's base
// URL. Sends, reads and logout follow the provider contract
// (/messages, /messages/{id}, /logout).
type Paths struct {
	// Login takes the form user, password and sets the session cookie.
	Login string
	// Inbox is the logged-in user's probe: a GET that needs the session.
	Inbox string
}

// DefaultPaths are the provider contract's (docs/CONTRACTS.md); a zero
// field of Config.Paths takes its value from here.
var DefaultPaths = Paths{Login: "/login", Inbox: "/inbox"}

// Config describes one load run.
type Config struct {
	// Users is the number of simulated users.
	Users int
	// FirstUser and AllUsers place these users in a load split across
	// agents: user i here is user FirstUser+i of AllUsers (its name, plan,
	// account, tenant and the recipients it picks), so no two agents share
	// a user. AllUsers 0 means Users (a whole load).
	FirstUser, AllUsers int
	// SourceIPs holds one local address per user (127.0.10.1 … in the lab).
	SourceIPs []netip.Addr
	// Domains are the tenants; user i belongs to Domains[i%len(Domains)].
	Domains []history.Domain
	// Rate is the total number of requests per second; 0 means as fast as
	// the users can go.
	Rate int
	// Duration bounds the run; it must be positive.
	Duration time.Duration
	// MaxRequests bounds the number of requests; 0 means no count bound.
	MaxRequests uint64
	// Password is the provider's test password used by every login.
	Password string
	// CA holds the trust roots; certificates are always verified.
	CA *x509.CertPool
	// OnStart, when set, is called once as the load's schedule begins
	// (after its users are set up; with agents, as they are told to go,
	// once every agent connected): what the fault schedule starts from.
	OnStart func()
	// Dial, when set, replaces the default dialer, which connects a
	// request for a domain's name to that domain's PublicIP (keeping the
	// URL's port) so SNI and Host stay the name.
	Dial DialFunc
	// Timeout bounds one request including its body; DefaultTimeout if zero.
	Timeout time.Duration
	// Seed makes the users' plans reproducible.
	Seed int64
	// Mix weighs inbox, send, read and logout; DefaultMix if zero.
	Mix Mix
	// Paths of login and inbox; a zero field means DefaultPaths'. Only
	// used when Flow is nil.
	Paths Paths
	// Flow is how users log in, keep and lose their session; nil means
	// the provider contract's (ContractFlow with Paths).
	Flow *Flow
	// Counters, when set, is updated while the run goes, for progress lines.
	Counters *Counters
	// Arrivals, when set, receives the schedule's count at the end: the
	// arrivals offered and those never sent because their user was still
	// busy when the load ended.
	Arrivals *Arrivals
	// ReplayBarrier, when set, runs between the replay probe's rotation of
	// the victim's token and the attacker's replay of the old one: the lab
	// waits there until the rotation has replicated to both masters, so
	// the probe asks whether an outdated token is refused, not whether the
	// attacker beat replication by a few milliseconds (a race the seed
	// answers with stickiness). An error is logged and the replay goes on.
	ReplayBarrier func(ctx context.Context) error
	// Logger receives debug and warning messages; slog.Default() if nil.
	Logger *slog.Logger
}

// SessionFlow is the flow the users follow: Flow, or the provider
// contract's with Paths.
func (c *Config) SessionFlow() *Flow {
	if c.Flow != nil {
		return c.Flow
	}
	f := ContractFlow(c.Paths)
	return &f
}

// withDefaults returns a copy with zero fields filled in.
func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix
	}
	if c.Paths.Login == "" {
		c.Paths.Login = DefaultPaths.Login
	}
	if c.Paths.Inbox == "" {
		c.Paths.Inbox = DefaultPaths.Inbox
	}
	c.Flow = c.SessionFlow()
	if c.Counters == nil {
		c.Counters = new(Counters)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Dial == nil {
		c.Dial = publicIPDialer(c.Domains, c.Timeout)
	}
	return c
}

// validate reports the first problem of a load configuration.
func (c Config) validate() error {
	var errs []error
	if c.Users <= 0 {
		errs = append(errs, fmt.Errorf("users must be positive, got %d", c.Users))
	}
	if c.FirstUser < 0 || (c.AllUsers > 0 && c.FirstUser+c.Users > c.AllUsers) {
		errs = append(errs, fmt.Errorf("users %d-%d are not within the %d users of the whole load", c.FirstUser+1, c.FirstUser+c.Users, c.AllUsers))
	}
	if len(c.SourceIPs) < c.Users {
		errs = append(errs, fmt.Errorf("%d source IPs for %d users: give one per user", len(c.SourceIPs), c.Users))
	}
	if len(c.Domains) == 0 {
		errs = append(errs, errors.New("no domains"))
	}
	for _, d := range c.Domains {
		if _, err := baseURL(d.HTTPS, "https"); err != nil {
			errs = append(errs, fmt.Errorf("domain %s: %w", d.Name, err))
		}
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration must be positive, got %s", c.Duration))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate must not be negative, got %d", c.Rate))
	}
	if c.CA == nil {
		errs = append(errs, errors.New("no CA: certificates are always verified"))
	}
	if c.Mix.Inbox < 0 || c.Mix.Send < 0 || c.Mix.Read < 0 || c.Mix.Logout < 0 {
		errs = append(errs, fmt.Errorf("negative weight in mix %+v", c.Mix))
	}
	for _, p := range []struct{ name, path string }{{"login", c.Paths.Login}, {"inbox", c.Paths.Inbox}} {
		if p.path != "" && !strings.HasPrefix(p.path, "/") {
			errs = append(errs, fmt.Errorf("%s path %q: want a path starting with /", p.name, p.path))
		}
	}
	if c.Flow != nil {
		if err := c.Flow.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("session flow: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("load config: %w", err)
	}
	return nil
}

// baseURL parses a domain's base URL and checks its scheme.
func baseURL(raw, scheme string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s base URL %q: %w", scheme, raw, err)
	}
	if u.Scheme != scheme || u.Host == "" {
		return nil, fmt.Errorf("%s base URL %q: want %s://name[:port]/", scheme, raw, scheme)
	}
	return u, nil
}

// publicIPDialer connects a domain's name to its public IP. Names without a
// public IP are resolved as usual (target mode with real DNS).
// Dialer is the dialer the load uses: Dial, else the default one, which
// connects each domain's name to its PublicIP from the given local
// address (other names resolve through DNS).
func (c Config) Dialer() DialFunc {
	if c.Dial != nil {
		return c.Dial
	}
	return publicIPDialer(c.Domains, c.Timeout)
}

func publicIPDialer(domains []history.Domain, timeout time.Duration) DialFunc {
	hosts := make(map[string]string, len(domains))
	for _, d := range domains {
		ip := d.PublicIP
		if ip == "" {
			continue
		}
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h // an ip:port: the URL's port decides
		}
		hosts[strings.ToLower(d.Name)] = ip
	}
	return func(ctx context.Context, local netip.Addr, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil {
			if ip, ok := hosts[strings.ToLower(host)]; ok {
				addr = net.JoinHostPort(ip, port)
			}
		}
		d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		if local.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
		}
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s from %s: %w", addr, local, err)
		}
		return conn, nil
	}
}

// Arrivals is the offered load of one run: every arrival the schedule made,
// and those dropped at its end because their user was still busy.
type Arrivals struct {
	Offered, Dropped int64
}
