package fakeprovider

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// SchemaDDL returns the statements that create the provider's tables and
// triggers; each is idempotent. Auto-increment primary keys make the tables
// a fair test of master-master replication (offsets must keep the two
// masters apart), and the unique (tenant, msg_id) key is what makes a
// retried send idempotent.
//
// The two triggers make the rows the providers update convergent: when both
// masters changed one row, each applies the other's row image through the
// trigger, and both end on the same row whatever the order. That happens
// after a frozen master finishes a write its provider had given up on while
// the user's retry ran on the other master: without them row-based
// replication swaps the two versions and the masters stay diverged. A session
// keeps its newest token (highest generation; equal generations: the
// greater secret) and a revocation is final; a message keeps the first
// clearing (the smaller provider id when both were recorded). The triggers
// need slave_run_triggers_for_rbr=ENFORCE on both masters to run for
// replicated events (the lab's pair sets it; docs/CONTRACTS.md); each only
// joins two row versions, so running it again on a replica is harmless.
func SchemaDDL() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS sessions (
  id       BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tenant   VARCHAR(253) CHARACTER SET ascii NOT NULL,
  sid      CHAR(32) CHARACTER SET ascii NOT NULL,
  user     VARCHAR(64) CHARACTER SET ascii NOT NULL,
  gen      BIGINT NOT NULL,
  secret   CHAR(32) CHARACTER SET ascii NOT NULL,
  revoked  TINYINT(1) NOT NULL DEFAULT 0,
  created  DATETIME(6) NOT NULL,
  UNIQUE KEY tenant_sid (tenant, sid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		`CREATE TABLE IF NOT EXISTS messages (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tenant     VARCHAR(253) CHARACTER SET ascii NOT NULL,
  msg_id     VARCHAR(128) CHARACTER SET ascii NOT NULL,
  user       VARCHAR(64) CHARACTER SET ascii NOT NULL,
  to_user    VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
  body       TEXT NOT NULL,
  created    DATETIME(6) NOT NULL,
  cleared_by VARCHAR(64) CHARACTER SET ascii NULL,
  UNIQUE KEY tenant_msg (tenant, msg_id),
  KEY tenant_user (tenant, user),
  KEY tenant_to (tenant, to_user)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		`CREATE TRIGGER IF NOT EXISTS sessions_keep_newest BEFORE UPDATE ON sessions FOR EACH ROW
BEGIN
  IF NEW.gen < OLD.gen OR (NEW.gen = OLD.gen AND NEW.secret < OLD.secret) THEN
    SET NEW.gen = OLD.gen, NEW.secret = OLD.secret;
  END IF;
  SET NEW.revoked = GREATEST(NEW.revoked, OLD.revoked);
END`,
		`CREATE TRIGGER IF NOT EXISTS messages_keep_first_clearing BEFORE UPDATE ON messages FOR EACH ROW
SET NEW.cleared_by = CASE
  WHEN OLD.cleared_by IS NULL THEN NEW.cleared_by
  WHEN NEW.cleared_by IS NULL THEN OLD.cleared_by
  ELSE LEAST(OLD.cleared_by, NEW.cleared_by) END`,
	}
}

// CreateSchema creates the provider's tables in db if they are missing.
func CreateSchema(ctx context.Context, db *sql.DB) error {
	for _, stmt := range SchemaDDL() {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create provider schema: %w", err)
		}
	}
	return nil
}

// ListMessageIDs returns every message of db as MessageKey(tenant, id) with
// the number of rows holding it (more than 1 would be a broken unique key),
// so the harness can compare what each master holds.
func ListMessageIDs(ctx context.Context, db *sql.DB) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT tenant, msg_id, COUNT(*) FROM messages GROUP BY tenant, msg_id`)
	if err != nil {
		return nil, fmt.Errorf("list message ids: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var tenant, id string
		var n int
		if err := rows.Scan(&tenant, &id, &n); err != nil {
			return nil, fmt.Errorf("list message ids: scan: %w", err)
		}
		out[MessageKey(tenant, id)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list message ids: %w", err)
	}
	return out, nil
}

// MySQLStore is a Store in MySQL or MariaDB. Every read goes to the server
// (no cache), and token rotation is one conditional UPDATE, so two providers
// on a replicated pair continue a session exactly when the newest token has
// replicated.
type MySQLStore struct {
	db *sql.DB
	// readTimeout is when the driver gives up waiting for an answer: no
	// write may run on the server after its caller stopped waiting.
	readTimeout time.Duration
}

// NewMySQLStore opens dsn (go-sql-driver format, e.g.
// "user:pass@tcp(127.0.0.1:3306)/regify"), creates the database named in it
// and the tables if missing, and checks the connection. The driver's own
// messages (a read timeout, a dropped connection; each also comes back as
// an error) go to log at debug level; nil discards them.
func NewMySQLStore(ctx context.Context, dsn string, log *slog.Logger) (*MySQLStore, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse DSN: %w (want user:pass@tcp(host:port)/database)", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = driverLog{log}
	if cfg.DBName == "" {
		return nil, errors.New("DSN names no database: append /regify (or another name) after the address")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Timeout == 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Addr, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxLifetime(5 * time.Minute)
	err = CreateSchema(ctx, db)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1049 { // unknown database: make it (needs the privilege)
		if err = createDatabase(ctx, *cfg); err == nil {
			err = CreateSchema(ctx, db)
		}
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%s: %w", cfg.Addr, err)
	}
	if warn := replicaTriggerWarning(ctx, db); warn != "" {
		log.Warn(warn, "database", cfg.Addr)
	}
	return &MySQLStore{db: db, readTimeout: cfg.ReadTimeout}, nil
}

// replicaTriggerWarning says when the server replicates (binary log on) but
// would not run the schema's triggers for replicated rows: then a row both
// masters changed can diverge (see SchemaDDL). Empty when all is well or the
// server cannot tell (MySQL has no such setting).
func replicaTriggerWarning(ctx context.Context, db *sql.DB) string {
	var logBin int
	var mode string
	if err := db.QueryRowContext(ctx, "SELECT @@log_bin, @@slave_run_triggers_for_rbr").Scan(&logBin, &mode); err != nil {
		return ""
	}
	return triggerWarning(logBin != 0, mode)
}

func triggerWarning(logBin bool, mode string) string {
	if !logBin || strings.EqualFold(mode, "ENFORCE") {
		return ""
	}
	return "slave_run_triggers_for_rbr is " + mode + ", not ENFORCE: on a master-master pair a session row both masters changed can diverge; set slave_run_triggers_for_rbr = ENFORCE on both masters"
}

func createDatabase(ctx context.Context, cfg mysql.Config) error {
	name := cfg.DBName
	if strings.ContainsAny(name, "`\x00") {
		return fmt.Errorf("database name %q: no backquotes or NUL bytes", name)
	}
	cfg.DBName = ""
	conn, err := mysql.NewConnector(&cfg)
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.Addr, err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"`"); err != nil {
		return fmt.Errorf("create database %s on %s: %w", name, cfg.Addr, err)
	}
	return nil
}

// driverLog hands the driver's messages to slog.
type driverLog struct{ log *slog.Logger }

func (d driverLog) Print(v ...any) {
	d.log.Debug("mysql driver", "msg", strings.TrimSpace(fmt.Sprint(v...)))
}

// DB is the underlying pool, for the harness's own queries.
func (s *MySQLStore) DB() *sql.DB { return s.db }

// Close closes the pool.
func (s *MySQLStore) Close() error { return s.db.Close() }

// Every write carries its caller's deadline and the server skips it once
// that has passed (UTC_TIMESTAMP(6) < ?): a statement that reaches a frozen
// server is executed when it thaws, long after the provider gave up and the
// user's retry was served by the other master, and the two writes of one
// row would then swap places through row-based replication and leave the
// masters diverged for good. The provider and its database share a clock
// (the lab's host); across hosts they must agree within the store timeout.
const guard = `UTC_TIMESTAMP(6) < ?`

// writeDeadline is when a write of ctx stops being worth doing: the
// caller's deadline or the driver's read timeout, whichever comes first.
// It is taken before the statement is sent, so the server's cut-off comes
// before the client's.
func (s *MySQLStore) writeDeadline(ctx context.Context) time.Time {
	d := time.Now().Add(storeTimeout)
	if s.readTimeout > 0 {
		d = time.Now().Add(s.readTimeout)
	}
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d.UTC()
}

// CreateSession implements Store.
func (s *MySQLStore) CreateSession(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO sessions (tenant, sid, user, gen, secret, revoked, created) SELECT ?, ?, ?, ?, ?, ?, ? FROM DUAL WHERE `+guard,
		se.Tenant, se.Token.SID, se.User, se.Token.Gen, se.Token.Secret, se.Revoked, se.Created, s.writeDeadline(ctx))
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1062 {
		return fmt.Errorf("create session %s/%s: %w", se.Tenant, se.Token.SID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create session %s/%s: %w", se.Tenant, se.Token.SID, err)
	}
	return nil
}

// Session implements Store.
func (s *MySQLStore) Session(ctx context.Context, tenant, sid string) (Session, error) {
	se := Session{Tenant: tenant, Token: Token{SID: sid}}
	err := s.db.QueryRowContext(ctx,
		`SELECT user, gen, secret, revoked, created FROM sessions WHERE tenant = ? AND sid = ?`, tenant, sid).
		Scan(&se.User, &se.Token.Gen, &se.Token.Secret, &se.Revoked, &se.Created)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("session %s/%s: %w", tenant, sid, ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session %s/%s: %w", tenant, sid, err)
	}
	return se, nil
}

// RotateToken implements Store with one atomic compare-and-swap UPDATE.
func (s *MySQLStore) RotateToken(ctx context.Context, tenant string, old, next Token) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE sessions SET gen = ?, secret = ? WHERE tenant = ? AND sid = ? AND gen = ? AND secret = ? AND revoked = 0 AND `+guard,
		next.Gen, next.Secret, tenant, old.SID, old.Gen, old.Secret, s.writeDeadline(ctx))
	if err != nil {
		return false, fmt.Errorf("rotate token of %s/%s: %w", tenant, old.SID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("rotate token of %s/%s: %w", tenant, old.SID, err)
	}
	return n == 1, nil
}

// RevokeSession implements Store.
func (s *MySQLStore) RevokeSession(ctx context.Context, tenant, sid string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET revoked = 1 WHERE tenant = ? AND sid = ? AND `+guard, tenant, sid, s.writeDeadline(ctx)); err != nil {
		return fmt.Errorf("revoke session %s/%s: %w", tenant, sid, err)
	}
	return nil
}

// PutMessage implements Store: INSERT IGNORE on the unique key, then read.
//
// The insert runs in a transaction that is committed only when its answer
// came back before the write deadline. A server frozen in the middle of the
// insert finishes it when it thaws; without our COMMIT (the driver closed
// the connection when it gave up) it then rolls it back, instead of
// committing a row the user's retry has meanwhile written on the other
// master: the same message id on both masters stops replication with a
// duplicate key. What is left is a freeze during the COMMIT itself.
func (s *MySQLStore) PutMessage(ctx context.Context, m Message) (Message, bool, error) {
	deadline := s.writeDeadline(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Message{}, false, fmt.Errorf("store message %s/%s: begin: %w", m.Tenant, m.ID, err)
	}
	res, err := tx.ExecContext(ctx,
		`INSERT IGNORE INTO messages (tenant, msg_id, user, to_user, body, created) SELECT ?, ?, ?, ?, ?, ? FROM DUAL WHERE `+guard,
		m.Tenant, m.ID, m.User, m.To, m.Body, m.Created, deadline)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && !time.Now().Before(deadline) {
		err = fmt.Errorf("the database answered after the write deadline %s; not committed", deadline.Format(time.RFC3339Nano))
	}
	if err != nil {
		_ = tx.Rollback()
		return Message{}, false, fmt.Errorf("store message %s/%s: %w", m.Tenant, m.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return Message{}, false, fmt.Errorf("store message %s/%s: commit: %w", m.Tenant, m.ID, err)
	}
	if n == 1 {
		m.Cleared, m.ClearedBy = false, ""
		return m, true, nil
	}
	got, err := s.Message(ctx, m.Tenant, m.ID)
	if err != nil {
		return Message{}, false, fmt.Errorf("store message %s/%s: read the existing row: %w", m.Tenant, m.ID, err)
	}
	return got, false, nil
}

// MarkCleared implements Store.
func (s *MySQLStore) MarkCleared(ctx context.Context, tenant, id, by string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE messages SET cleared_by = ? WHERE tenant = ? AND msg_id = ? AND `+guard, by, tenant, id, s.writeDeadline(ctx))
	if err != nil {
		return fmt.Errorf("mark %s/%s cleared: %w", tenant, id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		// 0 rows also when it was already marked by the same provider.
		if _, err := s.Message(ctx, tenant, id); err != nil {
			return fmt.Errorf("mark %s/%s cleared: %w", tenant, id, err)
		}
	}
	return nil
}

const messageColumns = `tenant, msg_id, user, to_user, body, created, cleared_by`

func scanMessage(sc interface{ Scan(...any) error }) (Message, error) {
	var m Message
	var by sql.NullString
	if err := sc.Scan(&m.Tenant, &m.ID, &m.User, &m.To, &m.Body, &m.Created, &by); err != nil {
		return Message{}, err
	}
	m.Cleared, m.ClearedBy = by.Valid, by.String
	return m, nil
}

// Message implements Store.
func (s *MySQLStore) Message(ctx context.Context, tenant, id string) (Message, error) {
	m, err := scanMessage(s.db.QueryRowContext(ctx,
		`SELECT `+messageColumns+` FROM messages WHERE tenant = ? AND msg_id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, fmt.Errorf("message %s/%s: %w", tenant, id, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("read message %s/%s: %w", tenant, id, err)
	}
	return m, nil
}

// Inbox implements Store.
func (s *MySQLStore) Inbox(ctx context.Context, tenant, user string, limit int) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+messageColumns+` FROM messages WHERE tenant = ? AND (user = ? OR to_user = ?) ORDER BY id DESC LIMIT ?`,
		tenant, user, user, limit)
	if err != nil {
		return nil, fmt.Errorf("read inbox of %s/%s: %w", tenant, user, err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("read inbox of %s/%s: %w", tenant, user, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read inbox of %s/%s: %w", tenant, user, err)
	}
	return out, nil
}

// Ping implements Store.
func (s *MySQLStore) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}
