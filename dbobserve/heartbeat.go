package dbobserve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/regify-verify/regify-verify/history"
)

// DefaultHeartbeatTable is the lab's heartbeat table, apart from the
// application's data.
const DefaultHeartbeatTable = "regify_verify.heartbeat"

// defaultHeartbeatWait bounds a heartbeat read whose context has no
// deadline.
const defaultHeartbeatWait = 60 * time.Second

// HeartbeatDDL creates a heartbeat table: one row per heartbeat, named by
// the side that wrote it and a sequence number that only grows. Rows are
// only ever inserted, so an operator's account needs no UPDATE or DELETE;
// a run writes a few per second. One line: the lab's bootstrap mode takes
// one statement per line.
func HeartbeatDDL(table string) string {
	return "CREATE TABLE IF NOT EXISTS " + quoteTable(table) +
		" (origin CHAR(1) NOT NULL, seq BIGINT NOT NULL, ts DATETIME(6) NOT NULL, PRIMARY KEY (origin, seq)) ENGINE=InnoDB"
}

// NotSeenError is a heartbeat that did not arrive on the other side before
// the context's deadline.
type NotSeenError struct {
	Seq      int64
	From, To Side
	Deadline time.Time
	Waited   time.Duration
	// Last is the last error reading the other side, if any.
	Last error
}

func (e *NotSeenError) Error() string {
	return fmt.Sprintf("heartbeat %d from side %s not seen on side %s before %s", e.Seq, e.From, e.To, e.Deadline.Format(time.TimeOnly))
}

// NoteDelay tells the heartbeat that side to applies events d late
// (MASTER_DELAY): heartbeats towards it are then written just after a
// second boundary, since the delay counts from the event's whole-second
// timestamp.
func (o *Observer) NoteDelay(to Side, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delay[to] = d > 0
}

// Lag writes a heartbeat on side from and polls the other side until it
// is there, up to the context's deadline (60s without one). The lag is
// counted from the start of the write: counted from its end, a write that
// took a second on a busy machine hid a second of a 2 s MASTER_DELAY
// (measured 1.007 s), so a slow master could pass a lag bound it missed;
// from its start the measure errs on the long side only, by the write's
// own time. Failed reads of the other side count
// as "not yet" (a side may be restarting); the last one is kept in the
// *NotSeenError.
func (o *Observer) Lag(ctx context.Context, from Side) (time.Duration, error) {
	to := from.Other()
	wdb, err := o.DB(ctx, from)
	if err != nil {
		return 0, err
	}
	rdb, err := o.DB(ctx, to)
	if err != nil {
		return 0, err
	}
	table := quoteTable(o.qualify(o.hbTable))
	seq := o.seq.Add(1)
	// The heartbeat's seq only grows, so a stale row never passes for a new one.
	var base int64
	_ = wdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq),0) FROM "+table+" WHERE origin=?", from.String()).Scan(&base)
	seq += base
	o.mu.Lock()
	delayed := o.delay[to]
	o.mu.Unlock()
	if delayed {
		// MASTER_DELAY counts from the event's whole-second timestamp, so a
		// write at a random moment shows delay minus a random fraction.
		// Writing just after a second boundary measures the delay itself.
		next := time.Now().Truncate(time.Second).Add(time.Second + 2*time.Millisecond)
		if !sleepCtx(ctx, time.Until(next)) {
			return 0, fmt.Errorf("heartbeat from side %s: %w", from, ctx.Err())
		}
	}
	start := time.Now()
	if _, err := wdb.ExecContext(ctx, "INSERT IGNORE INTO "+table+" (origin, seq, ts) VALUES (?, ?, NOW(6))", from.String(), seq); err != nil {
		return 0, &SideError{Side: from, What: "cannot write a heartbeat", Err: err}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultHeartbeatWait)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	var last error
	for {
		var got int64
		err := rdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq),0) FROM "+table+" WHERE origin=?", from.String()).Scan(&got)
		if err == nil && got >= seq {
			return time.Since(start), nil
		}
		if err != nil && ctx.Err() == nil {
			last = err
		}
		if !sleepCtx(ctx, o.hbPoll) {
			return 0, &NotSeenError{Seq: seq, From: from, To: to, Deadline: deadline, Waited: time.Since(start), Last: last}
		}
	}
}

// Sample is one Lag measurement as the history records it.
func (o *Observer) Sample(ctx context.Context, from Side) history.LagSample {
	smp := history.LagSample{At: time.Now(), From: from.String()}
	d, err := o.Lag(ctx, from)
	smp.Lag = d
	if err != nil {
		smp.Err = err.Error()
		var se *SideError
		if errors.As(err, &se) {
			smp.Err = o.explain(from, err)
		}
	}
	return smp
}

// IsNoSuchTable reports whether err is the server's "table does not exist".
func IsNoSuchTable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1146
}

// CreateHeartbeat creates the heartbeat table on a and waits up to wait
// for replication to bring it to b; when it does not, b gets its own, so
// that the other direction is still measured. For a pair the harness did
// not set up (the lab creates its table at install).
func (o *Observer) CreateHeartbeat(ctx context.Context, wait time.Duration) error {
	ddl := HeartbeatDDL(o.qualify(o.hbTable))
	if err := o.exec(ctx, A, "cannot create the heartbeat table", ddl); err != nil {
		return err
	}
	ok, err := o.tableVisible(ctx, B, wait, true)
	if err != nil {
		return err
	}
	if !ok {
		return o.exec(ctx, B, "cannot create the heartbeat table", ddl)
	}
	return nil
}

// DropHeartbeat drops the heartbeat table on a (the drop replicates), waits
// up to wait for it to go on b and drops it there too if it did not.
func (o *Observer) DropHeartbeat(ctx context.Context, wait time.Duration) error {
	drop := "DROP TABLE IF EXISTS " + quoteTable(o.qualify(o.hbTable))
	errA := o.exec(ctx, A, "cannot drop the heartbeat table "+o.hbTable, drop)
	_, _ = o.tableVisible(ctx, B, wait, false)
	errB := o.exec(ctx, B, "cannot drop the heartbeat table "+o.hbTable, drop)
	return errors.Join(errA, errB)
}

// tableVisible polls side s until the heartbeat table exists (or, with
// exists false, is gone), up to wait.
func (o *Observer) tableVisible(ctx context.Context, s Side, wait time.Duration, exists bool) (bool, error) {
	db, err := o.DB(ctx, s)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	schema, name := splitTable(o.qualify(o.hbTable))
	q, args := "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", []any{name}
	if schema != "" {
		q, args = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", []any{schema, name}
	}
	for {
		var n int
		err := db.QueryRowContext(ctx, q, args...).Scan(&n)
		switch {
		case err == nil && (n > 0) == exists:
			return true, nil
		case err != nil && ctx.Err() == nil:
			return false, &SideError{Side: s, What: "cannot look for the heartbeat table", Err: err}
		}
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return false, nil
		}
	}
}

func (o *Observer) exec(ctx context.Context, s Side, what, q string) error {
	db, err := o.DB(ctx, s)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, q); err != nil {
		return &SideError{Side: s, What: what, Err: err}
	}
	return nil
}
