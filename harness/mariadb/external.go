package mariadb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ExternalOptions describe an existing pair (target mode).
type ExternalOptions struct {
	// DSNs of an account on each side that may read replica status
	// (and, with AllowFaults, stop replicas and write heartbeats).
	DSN [2]string
	// AllowFaults permits operations that change the pair.
	AllowFaults bool
	// Config names the application database (other fields are ignored).
	Config Config
}

// External is the external backend: two DSNs of a pair this harness did not
// create. It never kills, stops or pauses servers; CutReplication stops the
// replica IO threads (SQL level, not network level), and only with
// AllowFaults.
type External struct {
	o    ExternalOptions
	cfgs [2]*mysql.Config
	core *sqlCore
}

// NewExternal checks the DSNs; Up connects.
func NewExternal(o ExternalOptions) (*External, error) {
	e := &External{o: o}
	for _, s := range Sides {
		c, err := mysql.ParseDSN(o.DSN[s])
		if err != nil {
			return nil, fmt.Errorf("external pair: bad DSN for side %s: %w (want user:password@tcp(host:port)/db)", s, err)
		}
		e.cfgs[s] = c
	}
	cfg := o.Config.Defaults()
	cfg.RootPassword = "" // unused: admin handles come from the DSNs
	e.core = &sqlCore{cfg: cfg, addr: e.Addr, open: e.open}
	return e, nil
}

func (e *External) open(s Side) (*sql.DB, error) { return sql.Open("mysql", e.o.DSN[s]) }

func (e *External) faults() error {
	if !e.o.AllowFaults {
		return ErrFaultsNotAllowed
	}
	return nil
}

// Up implements Pair: both sides answer and replicate both ways.
func (e *External) Up(ctx context.Context) error {
	for _, s := range Sides {
		if err := e.core.waitSQL(ctx, s, 10*time.Second); err != nil {
			return fmt.Errorf("external pair: %w (check the DSN and that the server is reachable)", err)
		}
	}
	st, _ := e.core.status(ctx)
	if !st.Healthy() {
		return fmt.Errorf("external pair does not replicate both ways: %s", describe(st, nil))
	}
	return nil
}

// Addr implements Pair.
func (e *External) Addr(_ context.Context, s Side) (string, error) { return e.cfgs[s].Addr, nil }

// DSN implements Pair.
func (e *External) DSN(_ context.Context, s Side) (string, error) { return e.o.DSN[s], nil }

// Kill implements Pair: not supported.
func (e *External) Kill(context.Context, Side) error { return ErrUnsupported }

// Stop implements Pair: not supported.
func (e *External) Stop(context.Context, Side) error { return ErrUnsupported }

// Start implements Pair: not supported.
func (e *External) Start(context.Context, Side) error { return ErrUnsupported }

// Pause implements Pair: not supported.
func (e *External) Pause(context.Context, Side) error { return ErrUnsupported }

// Unpause implements Pair: not supported.
func (e *External) Unpause(context.Context, Side) error { return ErrUnsupported }

// CutReplication implements Pair with STOP SLAVE IO_THREAD on both sides.
func (e *External) CutReplication(ctx context.Context) error {
	if err := e.faults(); err != nil {
		return err
	}
	for _, s := range Sides {
		if err := e.core.exec(ctx, s, "STOP SLAVE IO_THREAD"); err != nil {
			return err
		}
	}
	return nil
}

// HealReplication implements Pair.
func (e *External) HealReplication(ctx context.Context) error {
	if err := e.faults(); err != nil {
		return err
	}
	for _, s := range Sides {
		if err := e.core.exec(ctx, s, "START SLAVE IO_THREAD"); err != nil {
			return err
		}
	}
	return nil
}

// StopReplica implements Pair.
func (e *External) StopReplica(ctx context.Context, s Side) error {
	if err := e.faults(); err != nil {
		return err
	}
	return e.core.stopReplica(ctx, s)
}

// StartReplica implements Pair.
func (e *External) StartReplica(ctx context.Context, s Side) error {
	if err := e.faults(); err != nil {
		return err
	}
	return e.core.startReplica(ctx, s)
}

// SetReplicationDelay implements Pair.
func (e *External) SetReplicationDelay(ctx context.Context, s Side, d time.Duration) error {
	if err := e.faults(); err != nil {
		return err
	}
	return e.core.setDelay(ctx, s, d)
}

// Status implements Pair.
func (e *External) Status(ctx context.Context) (Status, error) { return e.core.status(ctx) }

// Checksum implements Pair.
func (e *External) Checksum(ctx context.Context, tables ...string) (Checksums, error) {
	return e.core.checksum(ctx, tables...)
}

// Lag implements Pair; it writes a heartbeat row, so it needs AllowFaults
// and the regify_verify.heartbeat table on both sides.
func (e *External) Lag(ctx context.Context, from Side) (time.Duration, error) {
	if err := e.faults(); err != nil {
		return 0, err
	}
	return e.core.lag(ctx, from)
}

// WaitConverged implements Pair.
func (e *External) WaitConverged(ctx context.Context, tables []string, timeout time.Duration) error {
	return e.core.waitConverged(ctx, tables, timeout)
}

// Close implements Pair: closes connections only.
func (e *External) Close(context.Context) error {
	e.core.closeAll()
	return nil
}

var _ Pair = (*External)(nil)
