// Package mariadb runs and breaks a MariaDB master-master pair: the database
// half of the regify HA setup. One Pair interface, two backends: docker
// (two containers through testcontainers-go, the default) and process (two
// local mariadbd processes, for machines without Docker). What it reads of
// the pair it reads through dbobserve, as a deployment run does; an
// existing pair is observed with dbobserve.Open on its DSNs.
//
// Callers that use the docker backend must set TESTCONTAINERS_RYUK_DISABLED
// to "true" before their first testcontainers call; PrepareEnv does that
// (and sets TESTCONTAINERS_HOST_OVERRIDE inside a container).
package mariadb

import (
	"context"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/dbobserve"
)

// Side names one server of the pair; it is the observer's side, so that
// what the pair does and what dbobserve reads name sides alike.
type Side = dbobserve.Side

// The two sides of the pair.
const (
	A = dbobserve.A
	B = dbobserve.B
)

// Sides lists both sides in order.
var Sides = dbobserve.Sides

// ParseSide reads "a" or "b".
func ParseSide(v string) (Side, error) {
	switch v {
	case "a", "A":
		return A, nil
	case "b", "B":
		return B, nil
	}
	return A, fmt.Errorf("unknown side %q (want a or b)", v)
}

// Pair is a MariaDB master-master pair. Every method takes a context and
// every wait inside has a deadline.
type Pair interface {
	// Up starts the pair and returns when both replication threads run in
	// both directions and a heartbeat row written on each side was read on
	// the other.
	Up(ctx context.Context) error
	// DSN is the go-sql-driver DSN of the application user on side s,
	// reachable from the host. It changes after a restart of a container.
	DSN(ctx context.Context, s Side) (string, error)
	// Addr is host:port of side s as seen from the host.
	Addr(ctx context.Context, s Side) (string, error)
	// Kill sends SIGKILL to side s; Start brings it back.
	Kill(ctx context.Context, s Side) error
	// Stop shuts side s down cleanly.
	Stop(ctx context.Context, s Side) error
	// Start starts a stopped or killed side and waits until it answers SQL.
	Start(ctx context.Context, s Side) error
	// Pause freezes side s (SIGSTOP / cgroup freezer); Unpause thaws it.
	Pause(ctx context.Context, s Side) error
	Unpause(ctx context.Context, s Side) error
	// CutReplication breaks the replication link at the network level in
	// both directions; the application's access to each side keeps working.
	CutReplication(ctx context.Context) error
	// HealReplication restores the link.
	HealReplication(ctx context.Context) error
	// StopReplica stops the replica threads on side s: writes on the other
	// side stop reaching s (one direction only). StartReplica resumes them.
	StopReplica(ctx context.Context, s Side) error
	StartReplica(ctx context.Context, s Side) error
	// SetReplicationDelay makes side s apply the other side's events d late
	// (MASTER_DELAY, whole seconds, rounded up); 0 removes the delay.
	SetReplicationDelay(ctx context.Context, s Side, d time.Duration) error
	// Status reads both sides' replica state.
	Status(ctx context.Context) (Status, error)
	// Checksum runs CHECKSUM TABLE on both sides. Tables without a schema
	// are in the application database.
	Checksum(ctx context.Context, tables ...string) (Checksums, error)
	// Lag writes a heartbeat row on side from and measures how long it
	// takes to become visible on the other side.
	Lag(ctx context.Context, from Side) (time.Duration, error)
	// WaitConverged waits until both sides applied each other's writes and
	// the tables' checksums are equal.
	WaitConverged(ctx context.Context, tables []string, timeout time.Duration) error
	// Observer reads the pair (status, checksums, rows, messages, final
	// state) through its administrator connections.
	Observer() *dbobserve.Observer
	// Close removes everything the pair created.
	Close(ctx context.Context) error
}

// Config is the topology of the pair; the zero value is completed by
// Defaults.
type Config struct {
	// Database is the application database, created on both sides.
	Database string
	// AppUser and AppPassword are the application's account.
	AppUser, AppPassword string
	// RootPassword is the administrator's password.
	RootPassword string
	// ReplUser and ReplPassword are the replication account.
	ReplUser, ReplPassword string
	// AutoIncrementIncrement and the offsets per side; equal offsets are a
	// negative control (ids collide).
	AutoIncrementIncrement int
	AutoIncrementOffset    [2]int
	// ServerID and GTIDDomainID per side.
	ServerID, GTIDDomainID [2]int
	// BinlogFormat is ROW unless set (MIXED is a negative control: the
	// replication-settings invariant wants row-based logging).
	BinlogFormat string
	// ReplicaTriggers is slave_run_triggers_for_rbr: ENFORCE unless set.
	// NO (MariaDB's own default) is the negative control of split-brain:
	// a replicated row event then skips the provider's convergence
	// triggers, and a session row both masters changed during a partition
	// swaps places instead of converging.
	ReplicaTriggers string
	// ReadyTimeout bounds the wait for a server to answer SQL; ReplTimeout
	// bounds the wait for replication to run both ways.
	ReadyTimeout, ReplTimeout time.Duration
}

// Defaults fills in what is unset: increment 2 with offsets 1 and 2, server
// ids 1 and 2, GTID domains 1 and 2.
func (c Config) Defaults() Config {
	set := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	set(&c.Database, "regify")
	set(&c.AppUser, "regify")
	set(&c.AppPassword, "regify-app")
	set(&c.RootPassword, "regify-root")
	set(&c.ReplUser, "repl")
	set(&c.ReplPassword, "regify-repl")
	if c.AutoIncrementIncrement == 0 {
		c.AutoIncrementIncrement = 2
	}
	if c.AutoIncrementOffset == [2]int{} {
		c.AutoIncrementOffset = [2]int{1, 2}
	}
	if c.ServerID == [2]int{} {
		c.ServerID = [2]int{1, 2}
	}
	if c.GTIDDomainID == [2]int{} {
		c.GTIDDomainID = [2]int{1, 2}
	}
	if c.BinlogFormat == "" {
		c.BinlogFormat = "ROW"
	}
	set(&c.ReplicaTriggers, "ENFORCE")
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 90 * time.Second
	}
	if c.ReplTimeout == 0 {
		c.ReplTimeout = 30 * time.Second
	}
	return c
}

// ServerConfig is the [mysqld] section for side s.
func (c Config) ServerConfig(s Side) string {
	return fmt.Sprintf(`[mysqld]
server_id = %d
gtid_domain_id = %d
log_bin = mysql-bin
binlog_format = %s
log_slave_updates = ON
relay_log = relay-bin
relay_log_recovery = ON
auto_increment_increment = %d
auto_increment_offset = %d
slave_net_timeout = 4
innodb_buffer_pool_size = 64M
innodb_log_file_size = 8M
performance_schema = OFF
skip_name_resolve = ON
bind_address = 0.0.0.0
max_connections = 300
# The provider's schema keeps a session row convergent when both masters
# changed it (a frozen master finishing a write its client gave up on, while
# the retry ran on the other one): a trigger keeps the newest token. It must
# run for replicated row events too, also when the origin ran it (YES would
# skip those, and they are all of them), and a non-SUPER user must be able
# to create it with the binary log on.
slave_run_triggers_for_rbr = %[6]s
log_bin_trust_function_creators = ON
# The lab kills and freezes mariadbd, never the kernel: a commit in the OS
# page cache survives a SIGKILL, so skip the per-commit fsync, which would
# otherwise be the longest moment a freeze can catch a write half done.
innodb_flush_log_at_trx_commit = 2
`, c.ServerID[s], c.GTIDDomainID[s], c.BinlogFormat, c.AutoIncrementIncrement, c.AutoIncrementOffset[s], c.ReplicaTriggers)
}

// initSQL runs once on a fresh datadir of each side, outside the binlog so
// that it does not replicate: the replication user and the heartbeat table.
func (c Config) initSQL() string {
	return fmt.Sprintf(`SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS '%[1]s'@'%%' IDENTIFIED BY '%[2]s';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO '%[1]s'@'%%';
CREATE DATABASE IF NOT EXISTS %[3]s;
%[4]s;
`, c.ReplUser, c.ReplPassword, heartbeatDB, dbobserve.HeartbeatDDL(heartbeatTable))
}

// heartbeatDB holds the heartbeat table, apart from the application's data.
const (
	heartbeatDB    = "regify_verify"
	heartbeatTable = heartbeatDB + ".heartbeat"
)

// Status is both sides' replica state.
type Status struct {
	Sides [2]SideStatus
}

// Healthy reports whether both replica threads run on both sides.
func (s Status) Healthy() bool {
	for _, x := range s.Sides {
		if !x.IORunning || !x.SQLRunning {
			return false
		}
	}
	return true
}

// SideStatus is one side's replica state and settings.
type SideStatus struct {
	Side                   Side
	Reachable              bool
	Err                    string // why the side could not be read
	IORunning, SQLRunning  bool
	IOState                string // Slave_IO_Running as reported (Yes, No, Connecting)
	LastIOErrno            int
	LastIOError            string
	LastSQLErrno           int
	LastSQLError           string
	SQLDelay               int
	GTIDBinlogPos          string
	GTIDSlavePos           string
	GTIDCurrentPos         string
	AutoIncrementIncrement int
	AutoIncrementOffset    int
	ServerID               int
	GTIDDomainID           int
}

// Checksums are CHECKSUM TABLE results per side; a missing table is -1.
type Checksums [2]map[string]int64

// Equal reports whether both sides hold the same checksums.
func (c Checksums) Equal() bool {
	if len(c[A]) != len(c[B]) {
		return false
	}
	for k, v := range c[A] {
		if w, ok := c[B][k]; !ok || w != v {
			return false
		}
	}
	return true
}
