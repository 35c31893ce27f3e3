package mariadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/regify-verify/regify-verify/dbobserve"
)

// sqlCore holds what every backend does through SQL: replication set-up,
// replica control, status, checksums, heartbeat lag and convergence. A
// backend supplies the host address of each side and where each side's
// replica should connect to reach the other.
type sqlCore struct {
	cfg Config
	// addr is the host:port of a side as seen from the host.
	addr func(ctx context.Context, s Side) (string, error)
	// masterOf says where side s's replica connects to reach the other side.
	masterOf func(s Side) (host string, port int)
	// open, when set, opens the admin handle of a side (external pairs
	// bring their own DSNs); otherwise root at addr.
	open func(s Side) (*sql.DB, error)

	mu  sync.Mutex
	dbs [2]*sql.DB
	at  [2]string // address the cached handle points to
	obs *dbobserve.Observer
}

// observer reads the pair through the admin handles (which follow a side
// to its new address after a restart); tables without a schema are in the
// application database.
func (c *sqlCore) observer() *dbobserve.Observer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.obs == nil {
		c.obs = dbobserve.NewDynamic(c.admin, dbobserve.WithSchema(c.cfg.Database), dbobserve.WithHeartbeat(heartbeatTable, 0))
	}
	return c.obs
}

func dsn(user, pass, addr, db string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, pass, "tcp", addr, db
	c.Timeout, c.ReadTimeout, c.WriteTimeout = 3*time.Second, 10*time.Second, 10*time.Second
	c.ParseTime = true
	c.InterpolateParams = true
	return c.FormatDSN()
}

// admin returns a root handle to side s, reopened when its address changed
// (a restarted container gets a new host port).
func (c *sqlCore) admin(ctx context.Context, s Side) (*sql.DB, error) {
	addr, err := c.addr(ctx, s)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dbs[s] != nil && c.at[s] == addr {
		return c.dbs[s], nil
	}
	if c.dbs[s] != nil {
		c.dbs[s].Close()
	}
	var db *sql.DB
	if c.open != nil {
		db, err = c.open(s)
	} else {
		db, err = sql.Open("mysql", dsn("root", c.cfg.RootPassword, addr, ""))
	}
	if err != nil {
		return nil, fmt.Errorf("open admin connection to side %s: %w", s, err)
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(30 * time.Second)
	c.dbs[s], c.at[s] = db, addr
	return db, nil
}

// forget drops the cached handle of side s (after a kill or stop).
func (c *sqlCore) forget(s Side) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dbs[s] != nil {
		c.dbs[s].Close()
		c.dbs[s], c.at[s] = nil, ""
	}
}

func (c *sqlCore) closeAll() {
	c.forget(A)
	c.forget(B)
}

func (c *sqlCore) appDSN(ctx context.Context, s Side) (string, error) {
	addr, err := c.addr(ctx, s)
	if err != nil {
		return "", err
	}
	return dsn(c.cfg.AppUser, c.cfg.AppPassword, addr, c.cfg.Database), nil
}

func (c *sqlCore) exec(ctx context.Context, s Side, q string, args ...any) error {
	db, err := c.admin(ctx, s)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("side %s: %s: %w", s, firstWords(q), err)
	}
	return nil
}

func firstWords(q string) string {
	f := strings.Fields(q)
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
}

// waitSQL polls side s until it answers SELECT 1, within timeout.
func (c *sqlCore) waitSQL(ctx context.Context, s Side, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		db, err := c.admin(ctx, s)
		if err == nil {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			err = db.PingContext(pctx)
			pcancel()
			if err == nil {
				return nil
			}
		}
		last = err
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("side %s did not answer SQL within %s (last error: %v)", s, timeout, last)
		}
	}
}

// setupReplication points each side at the other and starts the replicas.
func (c *sqlCore) setupReplication(ctx context.Context) error {
	for _, s := range Sides {
		host, port := c.masterOf(s)
		if err := c.exec(ctx, s, "STOP SLAVE"); err != nil {
			return err
		}
		q := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
			host, port, c.cfg.ReplUser, c.cfg.ReplPassword)
		if err := c.exec(ctx, s, q); err != nil {
			return err
		}
		if err := c.exec(ctx, s, "START SLAVE"); err != nil {
			return err
		}
	}
	return nil
}

// waitReplicating waits until both replicas run and a heartbeat crossed
// each way.
func (c *sqlCore) waitReplicating(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var st Status
	var err error
	for {
		st, err = c.status(ctx)
		if err == nil && st.Healthy() {
			break
		}
		if serr := sleepCtx(ctx, 50*time.Millisecond); serr != nil {
			return fmt.Errorf("replication did not start within %s: %s", timeout, describe(st, err))
		}
	}
	for _, s := range Sides {
		if _, err := c.lag(ctx, s); err != nil {
			return fmt.Errorf("heartbeat from side %s: %w", s, err)
		}
	}
	return nil
}

func describe(st Status, err error) string {
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, x := range st.Sides {
		parts = append(parts, fmt.Sprintf("side %s: io=%s sql=%t io_err=%d %q sql_err=%d %q %s",
			x.Side, x.IOState, x.SQLRunning, x.LastIOErrno, x.LastIOError, x.LastSQLErrno, x.LastSQLError, x.Err))
	}
	return strings.Join(parts, "; ")
}

func (c *sqlCore) stopReplica(ctx context.Context, s Side) error {
	return c.exec(ctx, s, "STOP SLAVE")
}

func (c *sqlCore) startReplica(ctx context.Context, s Side) error {
	return c.exec(ctx, s, "START SLAVE")
}

func (c *sqlCore) setDelay(ctx context.Context, s Side, d time.Duration) error {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 0 {
		return fmt.Errorf("negative replication delay %s", d)
	}
	if err := c.exec(ctx, s, "STOP SLAVE"); err != nil {
		return err
	}
	if err := c.exec(ctx, s, fmt.Sprintf("CHANGE MASTER TO MASTER_DELAY=%d", secs)); err != nil {
		return err
	}
	c.observer().NoteDelay(s, time.Duration(secs)*time.Second)
	return c.exec(ctx, s, "START SLAVE")
}

// status reads both sides; an unreachable side is reported, not an error.
func (c *sqlCore) status(ctx context.Context) (Status, error) {
	var st Status
	for _, s := range Sides {
		st.Sides[s] = sideStatus(s, c.observer().Status(ctx, s))
	}
	return st, nil
}

// sideStatus is the observer's status in the Pair's terms: a side counts
// as reachable when its replica status could be read.
func sideStatus(s Side, x dbobserve.Status) SideStatus {
	out := SideStatus{Side: s, Reachable: x.Reachable && x.ReplicaErr == nil}
	switch {
	case x.Err != nil:
		out.Err = x.Err.Error()
		return out
	case x.ReplicaErr != nil:
		out.Err = x.ReplicaErr.Error()
		return out
	}
	out.IOState, out.IORunning, out.SQLRunning = x.IOState, x.IORunning, x.SQLRunning
	out.LastIOErrno, out.LastIOError = x.LastIOErrno, x.LastIOError
	out.LastSQLErrno, out.LastSQLError = x.LastSQLErrno, x.LastSQLError
	out.SQLDelay = x.SQLDelay
	out.GTIDBinlogPos, out.GTIDSlavePos, out.GTIDCurrentPos = x.GTIDBinlogPos, x.GTIDSlavePos, x.GTIDCurrentPos
	out.AutoIncrementIncrement, out.AutoIncrementOffset = x.AutoIncrementIncrement, x.AutoIncrementOffset
	out.ServerID, out.GTIDDomainID = x.ServerID, x.GTIDDomainID
	return out
}

func (c *sqlCore) qualify(t string) string {
	if strings.Contains(t, ".") {
		return t
	}
	return c.cfg.Database + "." + t
}

// checksum runs CHECKSUM TABLE on both sides, keyed by schema.table.
func (c *sqlCore) checksum(ctx context.Context, tables ...string) (Checksums, error) {
	if len(tables) == 0 {
		return Checksums{}, errors.New("checksum: no tables named")
	}
	q := make([]string, len(tables))
	for i, t := range tables {
		q[i] = c.qualify(t)
	}
	var out Checksums
	for _, s := range Sides {
		sums, err := c.observer().Checksum(ctx, s, q)
		if err != nil {
			return out, err
		}
		out[s] = sums
	}
	return out, nil
}

// lag writes a heartbeat on side from and polls the other side for it.
func (c *sqlCore) lag(ctx context.Context, from Side) (time.Duration, error) {
	return c.observer().Lag(ctx, from)
}

// waitConverged waits until each side has applied the other's own GTID
// domain up to its binlog position and the checksums agree.
func (c *sqlCore) waitConverged(ctx context.Context, tables []string, timeout time.Duration) error {
	conv, err := c.observer().WaitConverged(ctx, dbobserve.ConvergeOptions{Tables: tables, Bound: timeout, Applied: true})
	if err == nil {
		return nil
	}
	st, _ := c.status(context.WithoutCancel(ctx))
	return fmt.Errorf("pair not converged within %s: %s; status: %s", timeout, conv.Why, describe(st, nil))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
