package mariadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
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
	seq int64
	// delay is the MASTER_DELAY set on each side, in seconds.
	delay [2]int
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
	c.mu.Lock()
	c.delay[s] = secs
	c.mu.Unlock()
	return c.exec(ctx, s, "START SLAVE")
}

// status reads both sides; an unreachable side is reported, not an error.
func (c *sqlCore) status(ctx context.Context) (Status, error) {
	var st Status
	for _, s := range Sides {
		st.Sides[s] = c.sideStatus(ctx, s)
	}
	return st, nil
}

func (c *sqlCore) sideStatus(ctx context.Context, s Side) SideStatus {
	x := SideStatus{Side: s}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	db, err := c.admin(qctx, s)
	if err != nil {
		x.Err = err.Error()
		return x
	}
	row, err := queryMap(qctx, db, "SHOW SLAVE STATUS")
	if err != nil {
		x.Err = err.Error()
		return x
	}
	x.Reachable = true
	x.IOState = row["Slave_IO_Running"]
	x.IORunning = x.IOState == "Yes"
	x.SQLRunning = row["Slave_SQL_Running"] == "Yes"
	x.LastIOErrno, _ = strconv.Atoi(row["Last_IO_Errno"])
	x.LastIOError = row["Last_IO_Error"]
	x.LastSQLErrno, _ = strconv.Atoi(row["Last_SQL_Errno"])
	x.LastSQLError = row["Last_SQL_Error"]
	x.SQLDelay, _ = strconv.Atoi(row["SQL_Delay"])
	err = db.QueryRowContext(qctx, "SELECT @@gtid_binlog_pos, @@gtid_slave_pos, @@gtid_current_pos, @@auto_increment_increment, @@auto_increment_offset, @@server_id, @@gtid_domain_id").
		Scan(&x.GTIDBinlogPos, &x.GTIDSlavePos, &x.GTIDCurrentPos, &x.AutoIncrementIncrement, &x.AutoIncrementOffset, &x.ServerID, &x.GTIDDomainID)
	if err != nil {
		x.Err = err.Error()
	}
	return x
}

// queryMap returns the first row of q as column -> text (empty map when no
// row).
func queryMap(ctx context.Context, db *sql.DB, q string) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if !rows.Next() {
		return out, rows.Err()
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, col := range cols {
		out[col] = string(vals[i])
	}
	return out, rows.Err()
}

func (c *sqlCore) qualify(t string) string {
	if strings.Contains(t, ".") {
		return t
	}
	return c.cfg.Database + "." + t
}

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
		db, err := c.admin(ctx, s)
		if err != nil {
			return out, err
		}
		rows, err := db.QueryContext(ctx, "CHECKSUM TABLE "+strings.Join(q, ", "))
		if err != nil {
			return out, fmt.Errorf("checksum on side %s: %w", s, err)
		}
		out[s] = map[string]int64{}
		for rows.Next() {
			var name string
			var sum sql.NullInt64
			if err := rows.Scan(&name, &sum); err != nil {
				rows.Close()
				return out, fmt.Errorf("checksum on side %s: %w", s, err)
			}
			if sum.Valid {
				out[s][name] = sum.Int64
			} else {
				out[s][name] = -1
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return out, fmt.Errorf("checksum on side %s: %w", s, err)
		}
	}
	return out, nil
}

// lag writes a heartbeat on side from and polls the other side for it.
func (c *sqlCore) lag(ctx context.Context, from Side) (time.Duration, error) {
	c.mu.Lock()
	c.seq++
	seq := c.seq
	c.mu.Unlock()
	to := from.Other()
	wdb, err := c.admin(ctx, from)
	if err != nil {
		return 0, err
	}
	rdb, err := c.admin(ctx, to)
	if err != nil {
		return 0, err
	}
	// The heartbeat's seq only grows, so a stale row never passes for a new one.
	var base int64
	_ = wdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq),0) FROM "+heartbeatDB+".heartbeat WHERE origin=?", from.String()).Scan(&base)
	seq += base
	c.mu.Lock()
	delayed := c.delay[to] > 0
	c.mu.Unlock()
	if delayed {
		// MASTER_DELAY counts from the event's whole-second timestamp, so a
		// write at a random moment shows delay minus a random fraction.
		// Writing just after a second boundary measures the delay itself.
		next := time.Now().Truncate(time.Second).Add(time.Second + 2*time.Millisecond)
		if err := sleepCtx(ctx, time.Until(next)); err != nil {
			return 0, err
		}
	}
	if _, err := wdb.ExecContext(ctx, "REPLACE INTO "+heartbeatDB+".heartbeat (origin, seq, ts) VALUES (?, ?, NOW(6))", from.String(), seq); err != nil {
		return 0, fmt.Errorf("write heartbeat on side %s: %w", from, err)
	}
	start := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		deadline, _ = ctx.Deadline()
	}
	for {
		var got int64
		err := rdb.QueryRowContext(ctx, "SELECT seq FROM "+heartbeatDB+".heartbeat WHERE origin=?", from.String()).Scan(&got)
		if err == nil && got >= seq {
			return time.Since(start), nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("heartbeat %d from side %s not seen on side %s before %s", seq, from, to, deadline.Format(time.TimeOnly))
		}
		time.Sleep(time.Millisecond)
	}
}

// waitConverged waits until each side has applied the other's own GTID
// domain up to its binlog position and the checksums agree.
func (c *sqlCore) waitConverged(ctx context.Context, tables []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		ok, why := c.convergedOnce(ctx, tables)
		if ok {
			return nil
		}
		last = why
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			st, _ := c.status(context.WithoutCancel(ctx))
			return fmt.Errorf("pair not converged within %s: %s; status: %s", timeout, last, describe(st, nil))
		}
	}
}

func (c *sqlCore) convergedOnce(ctx context.Context, tables []string) (bool, string) {
	st, _ := c.status(ctx)
	for _, s := range Sides {
		me, other := st.Sides[s], st.Sides[s.Other()]
		if !me.Reachable || !other.Reachable {
			return false, fmt.Sprintf("side %s unreachable: %s%s", s, me.Err, other.Err)
		}
		want := gtidSeq(me.GTIDBinlogPos, me.GTIDDomainID)
		if got := gtidSeq(other.GTIDCurrentPos, me.GTIDDomainID); got < want {
			return false, fmt.Sprintf("side %s applied domain %d up to %d of %d", s.Other(), me.GTIDDomainID, got, want)
		}
	}
	if len(tables) == 0 {
		return true, ""
	}
	sums, err := c.checksum(ctx, tables...)
	if err != nil {
		return false, err.Error()
	}
	if !sums.Equal() {
		return false, fmt.Sprintf("checksums differ: a=%v b=%v", sums[A], sums[B])
	}
	return true, ""
}

// gtidSeq returns the sequence number of domain in a GTID list such as
// "1-1-5,2-2-7" (0 when absent).
func gtidSeq(list string, domain int) uint64 {
	for _, g := range strings.Split(list, ",") {
		p := strings.Split(strings.TrimSpace(g), "-")
		if len(p) != 3 {
			continue
		}
		if d, _ := strconv.Atoi(p[0]); d == domain {
			n, _ := strconv.ParseUint(p[2], 10, 64)
			return n
		}
	}
	return 0
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
