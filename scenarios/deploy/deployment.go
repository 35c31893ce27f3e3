package deploy

import (
	"crypto/x509"
	"net/netip"
	"time"

	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Deployment is a parsed and validated deployment file.
type Deployment struct {
	// File is where the deployment was read from ("" when parsed from bytes).
	File string
	Name string
	// Mode is the seed's balancer setup: ModeOffload or ModePassthrough.
	Mode string
	// Domains are the public names: the main provider first, then
	// sub-providers.
	Domains []Domain
	TLS     TLS
	Clients Clients
	Session Session
	// ProviderHeader is the response header naming the provider that
	// answered: X-Regify-Provider (regify and the fake providers) or
	// X-Regify-Backend (a balancer that adds its backend's name).
	ProviderHeader string
	Load           LoadProfile
	// Database is nil when the file has no database section.
	Database *Database
	Faults   []FaultHook
	Stop     StopCondition
	// Bounds tune how the run is judged (bounds: in the file).
	Bounds JudgeBounds
	// Require are the invariants that must be judged (require: in the
	// file): one that was skipped makes the run incomplete, never a pass.
	Require []string
}

// DefaultRequire is require: when the file does not say: the guide's core
// rules, and with a database section master-master replication.
func DefaultRequire(database bool) []string {
	r := []string{check.NameStickiness, check.NameSessionContinuity, check.NameRedirect, check.NameTLS}
	if database {
		r = append(r, check.NameReplicationHealth, check.NameReplicationConvergence)
	}
	return r
}

// JudgeBounds are the deployment file's bounds: section.
type JudgeBounds struct {
	// MaxStall is the wait past which a request counts as disrupted, even
	// when it ends in 200 (failover, responsiveness).
	MaxStall time.Duration
	// Failback is check.FailbackForbid or check.FailbackAllow.
	Failback string
}

// Domain is one public name and where it is served.
type Domain struct {
	Name  string
	HTTPS string // base URL, https://abc.test:8443/
	HTTP  string // base URL of the plain-http redirect listener; "" skips the redirect probe
	// Address is the public IP to connect to instead of resolving Name;
	// invalid (zero) means DNS decides.
	Address netip.Addr
}

// TLS says which roots verify the balancer's certificates. Verification is
// always on.
type TLS struct {
	CAFile string // as written in the file
	// Roots are the system roots plus CAFile's certificates.
	Roots *x509.CertPool
	// CAPEM is CAFile's certificates as PEM, for load agents (a pool
	// cannot be written out).
	CAPEM []byte
	// MinValidity is how long every certificate must still be valid.
	MinValidity time.Duration
}

// Clients are the local addresses the simulated users send from, one each.
type Clients struct {
	Spec      string // as written, for reports
	SourceIPs []netip.Addr
}

// Session is how the harness gets a session: the provider contract's login
// with a test account, or the file's own login flow (session.login).
type Session struct {
	// LoginPath and ProbePath are the provider contract's (login_path,
	// probe_path); a custom flow refuses them and they keep the defaults.
	LoginPath string
	ProbePath string
	// Password is the test account's password: each user logs in as itself
	// (u001, …) with it when Flow.Accounts is empty. It never appears in
	// any output; String methods and reports redact it.
	Password string
	// Flow is how a simulated user gets, keeps and gives up a session:
	// load.ContractFlow at LoginPath and ProbePath unless the file gives
	// login: steps. Its Backend comes from the top-level backend: or
	// provider_header. Account passwords are secrets like Password.
	Flow load.Flow
	// Writes lets the load send messages (session.writes: true). Without
	// it the load only logs in, lists the inbox and logs out, and the
	// invariants that need sends are skipped.
	Writes bool
}

// LoadProfile is the default load profile; command-line flags override it.
type LoadProfile struct {
	Users    int
	Rate     int
	Duration time.Duration
	Timeout  time.Duration // per request
}

// Database is the master-master pair, reached with two DSNs.
type Database struct {
	A, B   string // go-sql-driver DSNs; never printed (see RedactDSN)
	Tables []string
	// MaxLag bounds the heartbeat round trip from one master to the other.
	MaxLag time.Duration
}

// FaultHook is an operator-supplied fault: two shell commands.
type FaultHook struct {
	Name    string
	Inject  string
	Recover string
	// Provider is the provider the fault takes out of service, if any;
	// invariants allow re-pins of its clients while it is out.
	Provider string
	// Hold is how long the fault stays injected.
	Hold time.Duration
	// Timeout bounds each command.
	Timeout time.Duration
}

// StopCondition aborts a fault and recovers at once when the error rate over
// a sliding window rises above a bound.
type StopCondition struct {
	MaxErrorRate float64
	Window       time.Duration
	// MinRequests is how many requests the window must hold before the rate
	// counts: three errors out of four requests are noise, not a breach.
	MinRequests int
}

// The seed's two balancer setups.
const (
	ModeOffload     = "offload"     // SSL offloading: providers speak plain HTTP
	ModePassthrough = "passthrough" // the providers terminate TLS themselves
)

// Defaults of the optional keys.
const (
	DefaultLoginPath      = "/login"
	DefaultProbePath      = "/inbox"
	DefaultProviderHeader = "X-Regify-Provider"
	BackendHeader         = "X-Regify-Backend"
	DefaultPassword       = "regify"
	DefaultUsers          = 16
	DefaultRate           = 40
	DefaultDuration       = 10 * time.Second
	DefaultTimeout        = 5 * time.Second
	DefaultMaxLag         = 5 * time.Second
	// DefaultMaxStall is bounds.max_stall when the file does not say.
	DefaultMaxStall     = time.Second
	DefaultHold         = 10 * time.Second
	DefaultHookTimeout  = 60 * time.Second
	DefaultMinValidity  = 14 * 24 * time.Hour
	DefaultMaxErrorRate = 0.5
	DefaultStopWindow   = 5 * time.Second
	DefaultMinRequests  = 10
	// MaxSourceIPs bounds the client address list: one user each.
	MaxSourceIPs = 1024
	// MaxFileSize bounds a deployment file.
	MaxFileSize = 1 << 20
)
