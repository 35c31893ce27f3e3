// Package dbobserve reads a MariaDB (or MySQL) master-master pair without
// changing it: replica status, the replication settings, heartbeat lag,
// table checksums, convergence, the rows the sides hold differently and the
// messages each side holds, and assembles the history's final database
// state from them. The lab (harness/mariadb) and a deployment run
// (scenarios/deploy) read their pairs through it, so both judge the same
// facts read the same way.
//
// It imports only the standard library, the MySQL driver and history, so
// that every layer may use it.
package dbobserve

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Side names one server of the pair: A ("a") or B ("b").
type Side int

// The two sides of the pair.
const (
	A Side = iota
	B
)

// Sides lists both sides in order.
var Sides = [2]Side{A, B}

// String is the side's name in the history: "a" or "b".
func (s Side) String() string {
	if s == B {
		return "b"
	}
	return "a"
}

// Other is the opposite side.
func (s Side) Other() Side { return 1 - s }

// Handles gives the observer a side's connection pool at the moment of a
// read: a lab's server moves to a new host port when its container
// restarts, so the pool may change between reads.
type Handles func(ctx context.Context, s Side) (*sql.DB, error)

// Observer reads a pair. It is safe for concurrent use; its only state is
// the heartbeat's sequence and the replication delays it was told about.
type Observer struct {
	handles Handles
	owned   [2]*sql.DB // opened by Open; Close closes them

	schema      string
	readTimeout time.Duration
	hbTable     string
	hbPoll      time.Duration
	text        func(s Side, what string, err error) string
	log         *slog.Logger

	seq   atomic.Int64
	mu    sync.Mutex
	delay [2]bool // MASTER_DELAY set on the side (heartbeats align to seconds)
}

// Option changes an Observer's defaults.
type Option func(*Observer)

// WithSchema names the schema of table names given without one (default:
// the connection's database).
func WithSchema(schema string) Option { return func(o *Observer) { o.schema = schema } }

// WithReadTimeout bounds each side's status read (default 5s).
func WithReadTimeout(d time.Duration) Option { return func(o *Observer) { o.readTimeout = d } }

// WithHeartbeat names the heartbeat table (default DefaultHeartbeatTable;
// without a schema it is in WithSchema's or the connection's database) and
// how often the reading side is polled (default 1ms).
func WithHeartbeat(table string, poll time.Duration) Option {
	return func(o *Observer) {
		if table != "" {
			o.hbTable = table
		}
		if poll > 0 {
			o.hbPoll = poll
		}
	}
}

// WithErrorText sets how a failed read of a side becomes the text of the
// history (DBSide.Err, LagSample.Err); what says what was being done
// ("cannot read the replica status"). A deployment uses it to explain
// driver errors in plain words and to keep DSNs out.
func WithErrorText(f func(s Side, what string, err error) string) Option {
	return func(o *Observer) { o.text = f }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *Observer) { o.log = l } }

// New observes two fixed connection pools; the caller keeps and closes them.
func New(a, b *sql.DB, opts ...Option) *Observer {
	dbs := [2]*sql.DB{a, b}
	return NewDynamic(func(_ context.Context, s Side) (*sql.DB, error) { return dbs[s], nil }, opts...)
}

// NewDynamic observes pools that h hands out at each read.
func NewDynamic(h Handles, opts ...Option) *Observer {
	o := &Observer{
		handles:     h,
		readTimeout: 5 * time.Second,
		hbTable:     DefaultHeartbeatTable,
		hbPoll:      time.Millisecond,
		text:        func(s Side, what string, err error) string { return fmt.Sprintf("%s on side %s: %v", what, s, err) },
		log:         slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// Open observes the servers of two go-sql-driver DSNs. Unset timeouts are
// bounded: connect 5s, read and write 15s. Opening does not connect; the
// first read does. A bad DSN is a *SideError naming the side (the DSN is
// not quoted: it may hold a password).
func Open(dsnA, dsnB string, opts ...Option) (*Observer, error) {
	var dbs [2]*sql.DB
	for i, dsn := range []string{dsnA, dsnB} {
		cfg, err := mysql.ParseDSN(dsn)
		if err == nil {
			if cfg.Timeout == 0 {
				cfg.Timeout = 5 * time.Second
			}
			if cfg.ReadTimeout == 0 {
				cfg.ReadTimeout = 15 * time.Second
			}
			if cfg.WriteTimeout == 0 {
				cfg.WriteTimeout = 15 * time.Second
			}
			var conn driver.Connector
			if conn, err = mysql.NewConnector(cfg); err == nil {
				dbs[i] = sql.OpenDB(conn)
				dbs[i].SetMaxOpenConns(4)
				dbs[i].SetConnMaxLifetime(time.Minute)
				continue
			}
		}
		for _, db := range dbs {
			if db != nil {
				_ = db.Close()
			}
		}
		return nil, &SideError{Side: Side(i), What: "cannot parse the DSN", Err: err}
	}
	o := New(dbs[A], dbs[B], opts...)
	o.owned = dbs
	return o, nil
}

// Close closes the pools Open opened; pools given to New stay open.
func (o *Observer) Close() error {
	var errs []error
	for _, db := range o.owned {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// DB is side s's pool at this moment.
func (o *Observer) DB(ctx context.Context, s Side) (*sql.DB, error) {
	db, err := o.handles(ctx, s)
	if err != nil {
		return nil, &SideError{Side: s, What: "cannot connect", Err: err}
	}
	if db == nil {
		return nil, &SideError{Side: s, What: "cannot connect", Err: errors.New("no connection to this side")}
	}
	return db, nil
}

// SideError is a failed read or write on one side.
type SideError struct {
	Side Side
	What string // what was being done, e.g. "cannot read the replica status"
	Err  error
}

func (e *SideError) Error() string { return fmt.Sprintf("%s on side %s: %v", e.What, e.Side, e.Err) }

// Unwrap returns the driver's error.
func (e *SideError) Unwrap() error { return e.Err }

// explain renders err for the history with the WithErrorText function.
func (o *Observer) explain(s Side, err error) string {
	var se *SideError
	if errors.As(err, &se) {
		return o.text(se.Side, se.What, se.Err)
	}
	return o.text(s, "cannot read", err)
}

// qualify puts a table without schema into the observer's schema.
func (o *Observer) qualify(t string) string {
	if o.schema == "" || strings.Contains(t, ".") {
		return t
	}
	return o.schema + "." + t
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// quoteTable quotes a table name (name or schema.name).
func quoteTable(t string) string {
	parts := strings.SplitN(t, ".", 2)
	for i, p := range parts {
		parts[i] = quoteIdent(p)
	}
	return strings.Join(parts, ".")
}

// splitTable returns a table's schema ("" for the connection's database)
// and name.
func splitTable(t string) (schema, name string) {
	if i := strings.IndexByte(t, '.'); i >= 0 {
		return t[:i], t[i+1:]
	}
	return "", t
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
