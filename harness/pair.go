package harness

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/regify-verify/regify-verify/fakeprovider"
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
	// OneWay replicates only from a to b (the seed's minimum redundancy:
	// master and slave provider).
	OneWay bool
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
	if err := p.onSide(s, func(sd mariadb.Side) error { return p.p.Start(ctx, sd) }); err != nil {
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

// Checksum runs CHECKSUM TABLE on both sides.
func (p *Pair) Checksum(ctx context.Context, tables ...string) (mariadb.Checksums, error) {
	return p.p.Checksum(ctx, tables...)
}

// WaitConverged waits until both sides hold the same rows, up to bound.
func (p *Pair) WaitConverged(ctx context.Context, tables []string, bound time.Duration) error {
	return p.p.WaitConverged(ctx, tables, bound)
}

// MessageIDs counts the rows per message key (tenant/id) on one side.
func (p *Pair) MessageIDs(ctx context.Context, s string) (map[string]int, error) {
	dsn, err := p.DSN(ctx, s)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", s, err)
	}
	defer db.Close()
	ids, err := fakeprovider.ListMessageIDs(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("list messages on database %s: %w", s, err)
	}
	return ids, nil
}

// DiffRows compares tables row by row on both sides and returns up to limit
// rows that differ (see mariadb.DiffRows): the witness of a divergence.
func (p *Pair) DiffRows(ctx context.Context, tables []string, limit int) ([]mariadb.RowDiff, error) {
	var dbs [2]*sql.DB
	for _, s := range mariadb.Sides {
		dsn, err := p.p.DSN(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("compare rows: address of database %s: %w", s, err)
		}
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, fmt.Errorf("compare rows: open database %s: %w", s, err)
		}
		defer db.Close()
		dbs[s] = db
	}
	return mariadb.DiffRows(ctx, dbs, tables, limit)
}

// Close removes the pair's containers, network and files.
func (p *Pair) Close(ctx context.Context) error { return p.p.Close(ctx) }

// StartPair is defined in pair_start.go.
