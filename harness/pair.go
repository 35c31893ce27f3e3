package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/harness/mariadb"
)

// Database backends of the pair.
const (
	BackendDocker  = "docker"  // two containers (default)
	BackendProcess = "process" // two local mariadbd processes, without Docker
)

// PairOptions configures the lab's MariaDB master-master pair.
type PairOptions struct {
	// Backend is BackendDocker (default) or BackendProcess.
	Backend string
	// Image is the MariaDB/MySQL image; empty builds the local one.
	Image string
	// EqualAutoIncrement gives both masters the same auto-increment offset:
	// the negative control of the auto-increment invariant.
	EqualAutoIncrement bool
	// MixedBinlog logs MIXED instead of ROW on both masters: the negative
	// control of the replication-settings invariant.
	MixedBinlog bool
	// NoReplicaTriggers runs both masters with slave_run_triggers_for_rbr
	// = NO (MariaDB's default) instead of ENFORCE: the provider's
	// convergence triggers do not run for replicated rows, so a session
	// token accepted on both sides of a partition stays forked after the
	// heal. The negative control of the split-brain invariant.
	NoReplicaTriggers bool
	// OneWay replicates only from a to b (the seed's minimum redundancy:
	// master and slave provider).
	OneWay bool
	// Host is the loopback address the process backend's servers and
	// links listen on (empty: 127.0.0.1); the lab gives each lane its own.
	Host string
}

// Pair is the lab's view of the master-master pair: the pair itself plus
// what the lab needs around it. Sides are named "a" and "b".
type Pair struct {
	p   mariadb.Pair
	cfg mariadb.Config
	// started, when set, is told the host address of a side that Start
	// brought back: a container's host port changes on every start, and
	// whatever reaches the server from the host must follow it.
	started func(side, addr string) error
	// opts are the options it was started with; baseline its masters'
	// settings then (for a PairPool's check before reuse).
	opts     PairOptions
	baseline [2]dbobserve.Settings
	// shaped is set while a pooled usual pair has a negative control's
	// settings (pair_shape.go).
	shaped bool
}

func side(s string) (mariadb.Side, error) { return mariadb.ParseSide(s) }

// Raw is the underlying pair, for what the lab does not wrap.
func (p *Pair) Raw() mariadb.Pair { return p.p }

// HostAddr is host:port of a side as the host reaches it now (it changes
// after a container restart).
func (p *Pair) HostAddr(ctx context.Context, s string) (string, error) {
	sd, err := side(s)
	if err != nil {
		return "", err
	}
	return p.p.Addr(ctx, sd)
}

// AppDSN is the application user's DSN for a server reached at addr.
func (p *Pair) AppDSN(addr string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = p.cfg.AppUser, p.cfg.AppPassword, "tcp", addr, p.cfg.Database
	c.ParseTime = true
	c.Timeout, c.ReadTimeout, c.WriteTimeout = time.Second, 2*time.Second, 2*time.Second
	return c.FormatDSN()
}

// DSN is the application user's DSN of a side, straight to the server.
func (p *Pair) DSN(ctx context.Context, s string) (string, error) {
	addr, err := p.HostAddr(ctx, s)
	if err != nil {
		return "", err
	}
	return p.AppDSN(addr), nil
}

func (p *Pair) onSide(s string, f func(mariadb.Side) error) error {
	sd, err := side(s)
	if err != nil {
		return err
	}
	return f(sd)
}

// The fault handles, by side name.

func (p *Pair) Kill(ctx context.Context, s string) error {
	return p.onSide(s, func(sd mariadb.Side) error { return p.p.Kill(ctx, sd) })
}
func (p *Pair) Start(ctx context.Context, s string) error {
	// A pair shaped from the usual one comes back with the usual
	// settings of its configuration file: shape the side again.
	if err := p.onSide(s, func(sd mariadb.Side) error {
		if err := p.p.Start(ctx, sd); err != nil {
			return err
		}
		return p.reshape(ctx, sd)
	}); err != nil {
		return err
	}
	if p.started == nil {
		return nil
	}
	addr, err := p.HostAddr(ctx, s)
	if err != nil {
		return fmt.Errorf("address of restarted database %s: %w", s, err)
	}
	return p.started(s, addr)
}
func (p *Pair) Stop(ctx context.Context, s string) error {
	return p.onSide(s, func(sd mariadb.Side) error { return p.p.Stop(ctx, sd) })
}
func (p *Pair) Pause(ctx context.Context, s string) error {
	return p.onSide(s, func(sd mariadb.Side) error { return p.p.Pause(ctx, sd) })
}
func (p *Pair) Unpause(ctx context.Context, s string) error {
	return p.onSide(s, func(sd mariadb.Side) error { return p.p.Unpause(ctx, sd) })
}
func (p *Pair) CutReplication(ctx context.Context) error  { return p.p.CutReplication(ctx) }
func (p *Pair) HealReplication(ctx context.Context) error { return p.p.HealReplication(ctx) }
func (p *Pair) StopReplica(ctx context.Context, s string) error {
	return p.onSide(s, func(sd mariadb.Side) error { return p.p.StopReplica(ctx, sd) })
}
func (p *Pair) StartReplica(ctx context.Context, s string) error {
	return p.onSide(s, func(sd mariadb.Side) error { return p.p.StartReplica(ctx, sd) })
}
func (p *Pair) SetReplicationDelay(ctx context.Context, s string, d time.Duration) error {
	return p.onSide(s, func(sd mariadb.Side) error { return p.p.SetReplicationDelay(ctx, sd, d) })
}

// WriteUnlogged runs one statement on side s with binary logging off for
// its session: the change stays on that master and never replicates, while
// both replica threads keep running — a silent divergence. It is an error
// when the statement changed no row.
func (p *Pair) WriteUnlogged(ctx context.Context, s, query string) error {
	sd, err := side(s)
	if err != nil {
		return err
	}
	db, err := p.Observer().DB(ctx, sd)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to side %s: %w", s, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "USE `"+p.cfg.Database+"`"); err != nil {
		return fmt.Errorf("select the application database on side %s: %w", s, err)
	}
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_log_bin = 0"); err != nil {
		return fmt.Errorf("turn binary logging off on side %s: %w", s, err)
	}
	// The connection goes back to the pool: restore logging whatever happens.
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "SET SESSION sql_log_bin = 1") }()
	res, err := conn.ExecContext(ctx, query)
	if err != nil {
		return fmt.Errorf("write on side %s only: %w", s, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("write on side %s only: the statement changed no row", s)
	}
	return nil
}

// Lag measures replication lag from side s to the other with a heartbeat row.
func (p *Pair) Lag(ctx context.Context, s string) (time.Duration, error) {
	sd, err := side(s)
	if err != nil {
		return 0, err
	}
	return p.p.Lag(ctx, sd)
}

// Status reads both sides' replica state.
func (p *Pair) Status(ctx context.Context) (mariadb.Status, error) { return p.p.Status(ctx) }

// WaitConverged waits until both sides hold the same rows, up to bound.
func (p *Pair) WaitConverged(ctx context.Context, tables []string, bound time.Duration) error {
	if !p.opts.OneWay {
		return p.p.WaitConverged(ctx, tables, bound)
	}
	// One way, a never applies b's writes (its heartbeats, say): waiting
	// for that would always run to the bound.
	conv, err := p.Observer().WaitConverged(ctx, dbobserve.ConvergeOptions{Tables: tables, Bound: bound, Applied: true, OneWay: true})
	if err != nil {
		return fmt.Errorf("one-way pair not converged within %s: %s: %w", bound, conv.Why, err)
	}
	return nil
}

// MessageIDs counts the rows per message key (tenant/id) on one side.
func (p *Pair) MessageIDs(ctx context.Context, s string) (map[string]int, error) {
	sd, err := side(s)
	if err != nil {
		return nil, err
	}
	ids, err := p.Observer().MessageIDs(ctx, sd, ProviderMessages(true))
	if err != nil {
		return nil, fmt.Errorf("list messages on database %s: %w", s, err)
	}
	return ids, nil
}

// ProviderMessages is where the fake provider keeps its messages; with
// tenant, ids are keyed tenant/id (fakeprovider.MessageKey).
func ProviderMessages(tenant bool) dbobserve.Messages {
	m := dbobserve.Messages{Table: "messages", ID: "msg_id"}
	if tenant {
		m.Tenant = "tenant"
	}
	return m
}

// Observer reads the pair through its administrator connections, which
// follow a side to its new address after a restart.
func (p *Pair) Observer() *dbobserve.Observer { return p.p.Observer() }

// Close removes the pair's containers, network and files.
func (p *Pair) Close(ctx context.Context) error { return p.p.Close(ctx) }

// StartPair is defined in pair_start.go.
