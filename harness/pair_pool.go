package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/harness/mariadb"
)

// PairPool keeps MariaDB pairs between labs, so that scenarios after the
// first find one up instead of starting one (1.5-5 s with containers, most
// of a database scenario's set-up). A pair goes back to the pool only in a
// known state — replication running both ways without delay or error, the
// settings it started with, every table of the application and of the
// harness empty and both masters equal — and is checked again before it
// is handed out; a pair a scenario broke beyond repair (a replica stopped
// on an error, a master gone) is closed, and the next scenario gets a
// fresh one. A negative control's deliberately wrong pair is an idle usual
// pair shaped into it (pair_shape.go) and shaped back when it returns.
// Safe for concurrent use by scenarios side by side.
type PairPool struct {
	log *slog.Logger
	// starting lets one pair start at a time: two coming up together on 2
	// cores took 27 s each, beside scenarios whose faults were being
	// timed (a database kill's recovery took 7.5 s instead of 2).
	starting sync.Mutex

	mu     sync.Mutex
	idle   map[PairOptions][]*Pair
	closed bool

	// Counters, for the report and tests.
	started, reused, shaped, discarded int
}

// NewPairPool makes an empty pool; Close ends every pair it holds.
func NewPairPool(log *slog.Logger) *PairPool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PairPool{log: log, idle: map[PairOptions][]*Pair{}}
}

// Reusable reports whether a pair of these options is kept by a PairPool
// between scenarios: the lab's usual pair, not a negative control's
// deliberately wrong one.
func (o PairOptions) Reusable() bool {
	return !o.EqualAutoIncrement && !o.MixedBinlog && !o.NoReplicaTriggers && !o.OneWay
}

// poolKey is what makes pairs interchangeable: their options, whatever
// address a process pair listens on.
func poolKey(o PairOptions) PairOptions {
	o.Host = ""
	return o
}

// Get hands out an idle pair of o in its known state, or starts a new
// one. A negative control's options get an idle usual pair shaped into
// them when there is one.
func (pp *PairPool) Get(ctx context.Context, o PairOptions, log *slog.Logger) (*Pair, error) {
	for {
		p := pp.take(poolKey(o.usual()))
		if p == nil {
			break
		}
		if err := p.checkKnown(ctx); err != nil {
			pp.discard(ctx, p, fmt.Errorf("before reuse: %w", err))
			continue
		}
		if o != o.usual() {
			if !p.shapeable() {
				pp.put(p) // kept for a usual scenario; o gets its own
				break
			}
			if err := p.shape(ctx, o); err != nil {
				pp.discard(ctx, p, err)
				continue
			}
		}
		pp.mu.Lock()
		pp.reused++
		if p.shaped {
			pp.shaped++
		}
		pp.mu.Unlock()
		return p, nil
	}
	p, err := pp.start(ctx, o, log)
	if err != nil {
		return nil, err
	}
	pp.mu.Lock()
	pp.started++
	pp.mu.Unlock()
	return p, nil
}

// start brings a pair up, one at a time, and reads the settings a
// reusable one must keep.
func (pp *PairPool) start(ctx context.Context, o PairOptions, log *slog.Logger) (*Pair, error) {
	pp.starting.Lock()
	p, err := StartPair(ctx, o, log)
	pp.starting.Unlock()
	if err != nil {
		return nil, err
	}
	p.opts = o
	if o.Reusable() {
		if p.baseline, err = p.readSettings(ctx); err != nil {
			_ = p.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return p, nil
}

// take hands out an idle pair of key, nil when there is none.
func (pp *PairPool) take(key PairOptions) *Pair {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	list := pp.idle[key]
	if len(list) == 0 {
		return nil
	}
	p := list[len(list)-1]
	pp.idle[key] = list[:len(list)-1]
	return p
}

// put makes p idle again, or closes it when the pool is closed.
func (pp *PairPool) put(p *Pair) error {
	pp.mu.Lock()
	if pp.closed {
		pp.mu.Unlock()
		return p.Close(context.Background())
	}
	key := poolKey(p.opts)
	pp.idle[key] = append(pp.idle[key], p)
	pp.mu.Unlock()
	return nil
}

// Put returns a pair after its lab is done with it: reset to the known
// state (shaped back first, when it was shaped for a negative control)
// and kept, or closed when that cannot be done.
func (pp *PairPool) Put(ctx context.Context, p *Pair) error {
	p.started = nil // the lab that followed its restarts is gone
	if !p.opts.Reusable() && !p.shaped {
		return p.Close(ctx)
	}
	start := time.Now()
	if err := p.reset(ctx); err != nil {
		pp.discard(ctx, p, err)
		return nil
	}
	if err := pp.put(p); err != nil {
		return err
	}
	pp.log.Debug("mariadb pair back in the pool", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// discard closes a pair that is not in its known state, saying why.
func (pp *PairPool) discard(ctx context.Context, p *Pair, why error) {
	pp.log.Info("mariadb pair not reused: a fresh one comes up for the next scenario", "why", why)
	pp.mu.Lock()
	pp.discarded++
	pp.mu.Unlock()
	if err := p.Close(context.WithoutCancel(ctx)); err != nil {
		pp.log.Warn("close a discarded mariadb pair", "err", err)
	}
}

// Warm starts a pair for each of hosts (the addresses process pairs
// listen on), one after the other, and keeps them, so that the first
// scenarios find pairs up. Side by side they took longer (8.6 s against
// 6.1 s for two: the engine starts containers one at a time anyway).
func (pp *PairPool) Warm(ctx context.Context, o PairOptions, hosts []string, log *slog.Logger) error {
	if !o.Reusable() {
		return nil
	}
	var errs []error
	for _, h := range hosts {
		o.Host = h
		p, err := pp.start(ctx, o, log)
		if err != nil {
			errs = append(errs, fmt.Errorf("warm the pair pool: %w", err))
			break
		}
		pp.mu.Lock()
		pp.started++
		pp.mu.Unlock()
		errs = append(errs, pp.put(p))
	}
	return errors.Join(errs...)
}

// Stats says how many pairs were started, reused (shaped for a negative
// control among them) and discarded.
func (pp *PairPool) Stats() (started, reused, shaped, discarded int) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	return pp.started, pp.reused, pp.shaped, pp.discarded
}

// Close ends every idle pair; pairs handed out are closed when put back.
func (pp *PairPool) Close(ctx context.Context) error {
	pp.mu.Lock()
	pp.closed = true
	var all []*Pair
	for _, list := range pp.idle {
		all = append(all, list...)
	}
	pp.idle = map[PairOptions][]*Pair{}
	pp.mu.Unlock()
	var errs []error
	for _, p := range all {
		errs = append(errs, p.Close(ctx))
	}
	return errors.Join(errs...)
}

// resetBound bounds emptying the tables and waiting for both masters to
// agree on it.
const resetBound = 20 * time.Second

// reset brings a pair a scenario used back to the known state: it
// repairs what a running pair can take back (a negative control's shape,
// a replica stopped without error, MASTER_DELAY), waits until replication
// runs both ways and each master has applied everything the other wrote
// (a write of the scenario still on its way would otherwise land after
// the emptying, and the next scenario, with the same seed and so the same
// message ids, would stop replication on a duplicate key: seen once),
// empties every table of the application's and the harness's schemas on
// master a (TRUNCATE replicates to b), waits until b applied that too,
// and checks both masters hold empty tables and the settings they started
// with.
func (p *Pair) reset(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, resetBound)
	defer cancel()
	if err := p.repair(ctx); err != nil {
		return err
	}
	if err := p.waitReplicating(ctx); err != nil {
		return err
	}
	if err := p.waitApplied(ctx, "before emptying"); err != nil {
		return err
	}
	db, err := p.Observer().DB(ctx, mariadb.A)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	tables, err := p.tables(ctx, mariadb.A)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := db.ExecContext(ctx, "TRUNCATE TABLE "+t); err != nil {
			return fmt.Errorf("reset: truncate %s: %w", t, err)
		}
	}
	if err := p.waitApplied(ctx, "after emptying"); err != nil {
		return err
	}
	rows, err := p.rowsLeft(ctx, tables)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	if rows != "" {
		return fmt.Errorf("reset: tables not empty on both masters: %s", rows)
	}
	return p.checkKnown(ctx)
}

// repair undoes what a scenario left that stands between the pair and its
// known state, short of starting a new one: a master killed or stopped is
// started again, a replica stopped on an error (a duplicate key: the
// scenario's rows, which the emptying removes anyway) skips the event
// groups it cannot apply, and a pair left shaped, delayed or with a
// replica stopped is shaped back to the usual settings. The checks that
// follow in reset decide whether it worked.
func (p *Pair) repair(ctx context.Context) error {
	st, err := p.Status(ctx)
	if err != nil {
		return fmt.Errorf("replica status: %w", err)
	}
	for _, x := range st.Sides {
		if x.Reachable {
			continue
		}
		if err := p.p.Start(ctx, x.Side); err != nil {
			return fmt.Errorf("master %s does not answer (%s) and did not start again: %w", x.Side, x.Err, err)
		}
		if st, err = p.Status(ctx); err != nil {
			return fmt.Errorf("replica status: %w", err)
		}
	}
	broken := false
	for _, x := range st.Sides {
		if !x.SQLRunning && x.LastSQLErrno != 0 {
			if !p.shapeable() {
				return fmt.Errorf("master %s's replica stopped on error %d: %s", x.Side, x.LastSQLErrno, x.LastSQLError)
			}
			if err := p.skipFailing(ctx, x.Side); err != nil {
				return err
			}
		}
		broken = broken || x.SQLDelay != 0 || !x.SQLRunning || x.IOState == "No"
	}
	if !p.shaped && !broken {
		return nil
	}
	if !p.shapeable() {
		return fmt.Errorf("replication not running cleanly both ways: %+v", st.Sides)
	}
	return p.shape(ctx, p.opts.usual())
}

// skipLimit bounds the event groups skipFailing skips on one side: a
// conflict or two (conflicting-writes) is repaired in about a second,
// while the dozens of colliding ids of equal auto-increment offsets took
// 17 s to skip one by one, where a fresh pair takes 1.5-3 s. skipCalm is
// how long the replica must then apply without an error.
const (
	skipLimit = 3
	skipCalm  = 200 * time.Millisecond
)

// skipFailing skips, one at a time, the event groups side s's replica
// stops on, until it applies again; more than skipLimit is an error.
func (p *Pair) skipFailing(ctx context.Context, s mariadb.Side) error {
	db, err := p.Observer().DB(ctx, s)
	if err != nil {
		return err
	}
	for range skipLimit {
		for _, q := range []string{"STOP SLAVE", "SET GLOBAL sql_slave_skip_counter = 1", "START SLAVE"} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("master %s: skip a failing event: %s: %w", s, q, err)
			}
		}
		// The next group either applies or stops the thread again; what
		// runs for skipCalm without an error is handed to reset's checks,
		// which give up at once on a replica stopped on an error.
		calm := time.Now()
		for {
			x := p.Observer().Status(ctx, s)
			if x.ReplicaErr != nil {
				return fmt.Errorf("master %s: replica status: %w", s, x.ReplicaErr)
			}
			if !x.SQLRunning && x.LastSQLErrno != 0 {
				break
			}
			if !x.SQLRunning || x.LastSQLErrno != 0 {
				calm = time.Now()
			} else if time.Since(calm) >= skipCalm {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("master %s: skip a failing event: %w", s, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return fmt.Errorf("master %s's replica still stops on errors after skipping %d event groups", s, skipLimit)
}

// waitReplicating waits, within half the reset's bound, until both
// replicas run; it gives up at once on a replica stopped on an error.
func (p *Pair) waitReplicating(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, resetBound/2)
	defer cancel()
	for {
		st, err := p.Status(ctx)
		if err == nil {
			if err = replicationProblem(st); err == nil {
				return nil
			}
			for _, x := range st.Sides {
				if !x.SQLRunning && x.LastSQLErrno != 0 {
					return err
				}
			}
		} else {
			err = fmt.Errorf("replica status: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("reset: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitApplied waits until each master has applied all the other wrote.
func (p *Pair) waitApplied(ctx context.Context, when string) error {
	bound := resetBound / 2
	if d, ok := ctx.Deadline(); ok {
		bound = min(bound, time.Until(d))
	}
	if _, err := p.Observer().WaitConverged(ctx, dbobserve.ConvergeOptions{Applied: true, Bound: bound}); err != nil {
		return fmt.Errorf("reset: replication not caught up %s: %w", when, err)
	}
	return nil
}

// checkKnown checks what reset left: replication healthy both ways, no
// delay, and the settings the pair started with.
func (p *Pair) checkKnown(ctx context.Context) error {
	if err := p.checkReplication(ctx); err != nil {
		return err
	}
	now, err := p.readSettings(ctx)
	if err != nil {
		return err
	}
	for i, s := range now {
		b := p.baseline[i]
		// GTID positions move on; everything else is configuration.
		s.GTIDBinlogPos, s.GTIDSlavePos, s.GTIDCurrentPos = b.GTIDBinlogPos, b.GTIDSlavePos, b.GTIDCurrentPos
		if s != b {
			return fmt.Errorf("master %s's settings changed: %+v, started with %+v", mariadb.Sides[i], s, b)
		}
	}
	return nil
}

func (p *Pair) checkReplication(ctx context.Context) error {
	st, err := p.Status(ctx)
	if err != nil {
		return fmt.Errorf("replica status: %w", err)
	}
	return replicationProblem(st)
}

// replicationProblem says what keeps st from the known state's
// replication: both ways, running, without delay; nil when nothing does.
func replicationProblem(st mariadb.Status) error {
	if !st.Healthy() {
		return fmt.Errorf("replication not running cleanly both ways: %+v", st.Sides)
	}
	for _, s := range st.Sides {
		if s.SQLDelay != 0 {
			return fmt.Errorf("master %s still applies %d s late (MASTER_DELAY)", s.Side, s.SQLDelay)
		}
	}
	return nil
}

func (p *Pair) readSettings(ctx context.Context) ([2]dbobserve.Settings, error) {
	var out [2]dbobserve.Settings
	for i, s := range mariadb.Sides {
		st, err := p.Observer().Settings(ctx, s)
		if err != nil {
			return out, fmt.Errorf("read master %s's settings: %w", s, err)
		}
		out[i] = st
	}
	return out, nil
}

// harnessSchema is where the harness keeps its own tables (heartbeats).
const harnessSchema = "regify_verify"

// tables lists the base tables of the application's and the harness's
// schemas on side s, quoted for SQL.
func (p *Pair) tables(ctx context.Context, s mariadb.Side) ([]string, error) {
	db, err := p.Observer().DB(ctx, s)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema IN (?, ?) ORDER BY 1, 2",
		p.cfg.Database, harnessSchema)
	if err != nil {
		return nil, fmt.Errorf("list tables on master %s: %w", s, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			return nil, fmt.Errorf("list tables on master %s: %w", s, err)
		}
		out = append(out, quoteIdent(schema)+"."+quoteIdent(name))
	}
	return out, rows.Err()
}

// rowsLeft names the tables that still hold rows on either master, ""
// when every one is empty on both.
func (p *Pair) rowsLeft(ctx context.Context, tables []string) (string, error) {
	var left []string
	for _, s := range mariadb.Sides {
		db, err := p.Observer().DB(ctx, s)
		if err != nil {
			return "", err
		}
		for _, t := range tables {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
				return "", fmt.Errorf("count %s on master %s: %w", t, s, err)
			}
			if n > 0 {
				left = append(left, fmt.Sprintf("%s on %s: %d rows", t, s, n))
			}
		}
	}
	return strings.Join(left, ", "), nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
