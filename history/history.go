// Package history is the one record of a run: every request the simulated
// users made, every fault the schedule injected, and the final state of the
// databases and the clearing service. Invariants are pure functions of it, so
// a run can be judged again later from its JSON lines.
package history

import (
	"time"
)

// Op names what a simulated user (or probe) was doing with a request.
type Op string

// The operations of the workload and of the probes.
const (
	OpLogin    Op = "login"
	OpInbox    Op = "inbox"
	OpSend     Op = "send"
	OpRead     Op = "read"
	OpLogout   Op = "logout"
	OpRedirect Op = "redirect-probe" // a plain-http request that must be redirected
	// OpRedirectFollow is the https request that follows a redirect
	// probe's Location once: the redirect must land on a page, not loop.
	OpRedirectFollow Op = "redirect-follow"
	OpTLS            Op = "tls-probe" // a TLS handshake against a public IP
	OpHealth         Op = "health"
)

// Request is one HTTP exchange (or one TLS probe) as the client saw it.
type Request struct {
	Seq      int64  `json:"seq"`
	User     string `json:"user,omitempty"`      // simulated user id, e.g. "u007"
	SourceIP string `json:"source_ip,omitempty"` // local address the request was sent from
	// Scheduled is when the load meant to send it (its arrival in the
	// schedule); zero for probes and older histories. Start - Scheduled is
	// how long it waited for its user, who had a request in flight.
	Scheduled time.Time     `json:"scheduled,omitempty"`
	Start     time.Time     `json:"start"`
	Latency   time.Duration `json:"latency_ns"`       // from Start to the end of the response
	Tenant    string        `json:"tenant,omitempty"` // the host name asked for (abc.test)
	Method    string        `json:"method,omitempty"`
	URL       string        `json:"url,omitempty"`
	Op        Op            `json:"op"`
	Status    int           `json:"status,omitempty"` // 0 when no response arrived
	Err       string        `json:"err,omitempty"`    // transport error, if any
	// LoggedOut is set when the answer showed a lost session as the run's
	// session flow defines it (logged_out: a 401, a redirect to the login
	// page, the login form); older histories only have the 401.
	LoggedOut bool `json:"logged_out,omitempty"`

	Provider      string `json:"provider,omitempty"`       // X-Regify-Provider of the response
	ServedTenant  string `json:"served_tenant,omitempty"`  // X-Regify-Tenant of the response
	SessionUser   string `json:"session_user,omitempty"`   // X-Regify-User: whose session answered
	TokenSent     string `json:"token_sent,omitempty"`     // session token the client presented
	TokenReceived string `json:"token_received,omitempty"` // session token the response set
	Location      string `json:"location,omitempty"`       // redirect target
	Backend       string `json:"backend,omitempty"`        // balancer's backend header, when switched on

	MessageID string `json:"message_id,omitempty"` // client-chosen id of a send or read

	TLS  *TLSFacts `json:"tls,omitempty"`
	Seen *Seen     `json:"seen,omitempty"` // what the provider saw, when it reports it
}

// Waited is the latency as the user felt it: from the scheduled start (when
// there is one) to the end of the response, so a request held up behind a
// stalled one counts its wait (coordinated omission corrected, as wrk2 and
// HdrHistogram do).
func (r *Request) Waited() time.Duration {
	if r.Scheduled.IsZero() || !r.Scheduled.Before(r.Start) {
		return r.Latency
	}
	return r.Start.Sub(r.Scheduled) + r.Latency
}

// OK reports whether a response arrived with a 2xx or 3xx status and did
// not show a lost session.
func (r *Request) OK() bool {
	return r.Err == "" && r.Status >= 200 && r.Status < 400 && !r.LoggedOut
}

// SessionLost reports whether the answer showed a lost session: the flow
// said so, or the provider contract's 401.
func (r *Request) SessionLost() bool { return r.LoggedOut || r.Status == 401 }

// TLSFacts are what a client learned from a TLS handshake.
type TLSFacts struct {
	Address    string    `json:"address,omitempty"`     // ip:port connected to
	ServerName string    `json:"server_name,omitempty"` // SNI sent; empty when none was sent
	Version    string    `json:"version,omitempty"`     // "TLS 1.3"
	Cipher     string    `json:"cipher,omitempty"`
	ALPN       string    `json:"alpn,omitempty"`
	PeerNames  []string  `json:"peer_names,omitempty"` // DNS names of the leaf certificate
	NotAfter   time.Time `json:"not_after,omitempty"`
	Verified   bool      `json:"verified"`             // chain and name verified for Expected
	VerifyErr  string    `json:"verify_err,omitempty"` // why not
	Expected   string    `json:"expected,omitempty"`   // the name the certificate must carry
	Resumed    bool      `json:"resumed,omitempty"`
}

// Seen is what a provider reports it received with a request.
type Seen struct {
	RemoteAddr      string `json:"remote_addr,omitempty"`
	XForwardedFor   string `json:"x_forwarded_for,omitempty"`
	XForwardedProto string `json:"x_forwarded_proto,omitempty"`
	XForwardedHost  string `json:"x_forwarded_host,omitempty"`
	Forwarded       string `json:"forwarded,omitempty"`
	TLS             bool   `json:"tls"` // the request reached the provider over TLS
}

// Fault is one injected fault, from injection to recovery.
type Fault struct {
	// ID numbers the faults of a run from 1 (a Recorder assigns it); a
	// streamed recovery repeats the fault with the same id. Zero: unnumbered.
	ID     int    `json:"id,omitempty"`
	Name   string `json:"name"`             // e.g. "provider-crash"
	Target string `json:"target,omitempty"` // e.g. "p1", "db-a", "replication"
	// Provider is the provider the fault takes out of service, when it
	// takes one out (a database kill takes out the provider using it).
	Provider  string    `json:"provider,omitempty"`
	Injected  time.Time `json:"injected"`
	Recovered time.Time `json:"recovered,omitempty"` // zero while not recovered
	Detail    string    `json:"detail,omitempty"`
	Err       string    `json:"err,omitempty"`
	// Disruptive faults make requests fail for a while (provider crash, hang);
	// invariants such as stickiness allow a re-pin after them.
	ProviderFault bool `json:"provider_fault,omitempty"`
	// DatabaseFault marks faults of the database or its replication.
	DatabaseFault bool `json:"database_fault,omitempty"`
	// BalancerFault marks faults of the balancer itself (a restart): every
	// client is refused while it lasts, and each may be pinned afresh after.
	BalancerFault bool `json:"balancer_fault,omitempty"`
}

// LagSample is one heartbeat measurement of replication lag.
type LagSample struct {
	At   time.Time     `json:"at"`
	From string        `json:"from"` // side written on: "a" or "b"
	Lag  time.Duration `json:"lag_ns"`
	Err  string        `json:"err,omitempty"` // heartbeat not seen within the probe's bound
}

// DBSide is the final state of one master.
type DBSide struct {
	Name         string           `json:"name"` // "a" or "b"
	Reachable    bool             `json:"reachable"`
	Err          string           `json:"err,omitempty"`
	IORunning    bool             `json:"io_running"`
	SQLRunning   bool             `json:"sql_running"`
	LastIOErrno  int              `json:"last_io_errno,omitempty"`
	LastIOError  string           `json:"last_io_error,omitempty"`
	LastSQLErrno int              `json:"last_sql_errno,omitempty"`
	LastSQLError string           `json:"last_sql_error,omitempty"`
	GTIDSlavePos string           `json:"gtid_slave_pos,omitempty"`
	GTIDBinlog   string           `json:"gtid_binlog_pos,omitempty"`
	AutoIncInc   int              `json:"auto_increment_increment"`
	AutoIncOff   int              `json:"auto_increment_offset"`
	Checksums    map[string]int64 `json:"checksums,omitempty"` // table -> CHECKSUM TABLE
	// Settings are the server's replication settings; nil when they were
	// not read (older histories, an unreachable side).
	Settings *ServerSettings `json:"settings,omitempty"`
	// Messages maps a client-chosen message id to how many rows carry it.
	Messages map[string]int `json:"messages,omitempty"`
}

// ServerSettings are what replication-settings judges of one master.
type ServerSettings struct {
	ServerID        int    `json:"server_id"`
	GTIDDomainID    int    `json:"gtid_domain_id"`
	MariaDB         bool   `json:"mariadb"` // gtid_domain_id exists (MariaDB's GTID)
	BinlogFormat    string `json:"binlog_format"`
	LogSlaveUpdates bool   `json:"log_slave_updates"`
	ReadOnly        bool   `json:"read_only"`
}

// DBState is the final state of the master-master pair.
type DBState struct {
	Sides []DBSide `json:"sides"`
	// ConvergeWait is how long the harness waited after the last fault healed
	// until both sides' checksums matched; Converged is false when they did
	// not match within the bound it waited.
	ConvergeWait time.Duration `json:"converge_wait_ns"`
	Converged    bool          `json:"converged"`
	// WaitEnded says why the harness stopped waiting before the bound: a
	// replica that had stopped, so that nothing could have converged.
	WaitEnded string `json:"wait_ended,omitempty"`
	// RowDiffs are the first rows the sides hold differently, read when
	// they did not converge: what a person reads to see which write raced.
	RowDiffs   []RowDiff `json:"row_diffs,omitempty"`
	RowDiffErr string    `json:"row_diff_err,omitempty"` // why rows could not be compared
	// ReplicationEnabled is false for setups that deliberately run a single
	// database or one-way replication (minimum redundancy).
	OneWay bool `json:"one_way,omitempty"`
}

// RowDiff is one row the masters hold differently, named by primary key.
type RowDiff struct {
	Table string `json:"table"`
	Key   string `json:"key"` // e.g. "id=17"
	// Missing names the side without the row; empty when both hold it and
	// Columns lists what differs.
	Missing string       `json:"missing,omitempty"`
	Columns []ColumnDiff `json:"columns,omitempty"`
}

// ColumnDiff is one column of a diverged row with each side's value.
type ColumnDiff struct {
	Name string `json:"name"`
	A    string `json:"a"`
	B    string `json:"b"`
}

// ClearingState is what the fake clearing services recorded.
type ClearingState struct {
	// Cleared maps a message id to how many times it was cleared, summed
	// over all clearing services.
	Cleared map[string]int `json:"cleared"`
}

// BalancerState is which backends the balancer still had out of service
// after every fault was recovered, and how long the run waited for them.
type BalancerState struct {
	Down   []string      `json:"down,omitempty"`
	Waited time.Duration `json:"waited_ns"`
}

// Final holds the state read after load and faults ended.
type Final struct {
	DB       *DBState       `json:"db,omitempty"`
	Clearing *ClearingState `json:"clearing,omitempty"`
	Lag      []LagSample    `json:"lag,omitempty"`
	// Balancer is the lab balancer's view of its backends at the end.
	Balancer *BalancerState `json:"balancer,omitempty"`
	// Measures are scenario-specific figures (RTO, RPO of a drill).
	Measures map[string]float64 `json:"measures,omitempty"`
}

// Meta describes the run that produced a history.
type Meta struct {
	RunID    string    `json:"run_id"`
	Scenario string    `json:"scenario"`
	Seed     int64     `json:"seed"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	// Mode is "offload" or "passthrough" (the seed's two balancer setups).
	Mode string `json:"mode,omitempty"`
	// Domains are the public names of the run, with their expected
	// public addresses (name -> ip:port of https).
	Domains []Domain `json:"domains,omitempty"`
	// Providers are the ids of the providers behind the balancer.
	Providers []string `json:"providers,omitempty"`
	// ProviderShowsSeen is true when providers report forwarded headers.
	ProviderShowsSeen bool `json:"provider_shows_seen,omitempty"`
	// Load is how long the load was meant to run (the schedule scales with
	// it); zero in older histories.
	Load time.Duration `json:"load_ns,omitempty"`
	// Session is how the load got and kept its sessions; nil in older
	// histories, which all followed the provider contract.
	Session *SessionFacts `json:"session,omitempty"`
}

// SessionFacts describe the session flow a run used, as far as judging
// needs them.
type SessionFacts struct {
	// Flow is "contract" (the fake provider's, docs/CONTRACTS.md) or
	// "custom" (a deployment file's session: steps).
	Flow string `json:"flow"`
	// Cookie is the session cookie's name or /pattern/.
	Cookie string `json:"cookie"`
	// Rotates is whether every authenticated answer must set a new cookie.
	Rotates bool `json:"rotates"`
	// Backend is where answers named their node ("header X-Backend"); ""
	// when nowhere.
	Backend string `json:"backend,omitempty"`
	// Identity is where answers named their session's user; "" when the
	// load inferred it from the cookie presented.
	Identity string `json:"identity,omitempty"`
}

// RotationJudged reports whether every authenticated answer must rotate
// the session cookie: always in older histories (the contract), else as
// the flow says.
func (m *Meta) RotationJudged() bool { return m.Session == nil || m.Session.Rotates }

// Domain is one public name and where it is served.
type Domain struct {
	Name     string `json:"name"`
	PublicIP string `json:"public_ip"`
	HTTPS    string `json:"https"` // base URL, https://abc.test:8443/
	HTTP     string `json:"http"`  // base URL, http://abc.test:8080/
}

// History is the complete record of one scenario run.
type History struct {
	Meta     Meta      `json:"meta"`
	Requests []Request `json:"-"`
	Faults   []Fault   `json:"-"`
	Final    Final     `json:"-"`
}
