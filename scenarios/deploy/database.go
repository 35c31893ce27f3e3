package deploy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/regify-verify/regify-verify/history"
)

// dbSide is one master of the operator's pair.
type dbSide struct {
	name string // "a" or "b"
	dsn  string // never printed
	db   *sql.DB
}

// openSides opens both masters with bounded connect, read and write
// timeouts. Opening does not connect; the first query does.
func openSides(d *Database) ([2]*dbSide, error) {
	var out [2]*dbSide
	for i, dsn := range []string{d.A, d.B} {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return out, fmt.Errorf("parse DSN of master %s (%s): %w", sideName(i), RedactDSN(dsn), err)
		}
		if cfg.Timeout == 0 {
			cfg.Timeout = 5 * time.Second
		}
		if cfg.ReadTimeout == 0 {
			cfg.ReadTimeout = 15 * time.Second
		}
		if cfg.WriteTimeout == 0 {
			cfg.WriteTimeout = 15 * time.Second
		}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return out, fmt.Errorf("connector of master %s (%s): %w", sideName(i), RedactDSN(dsn), err)
		}
		db := sql.OpenDB(conn)
		db.SetMaxOpenConns(4)
		db.SetConnMaxLifetime(time.Minute)
		out[i] = &dbSide{name: sideName(i), dsn: dsn, db: db}
	}
	return out, nil
}

func sideName(i int) string { return string(rune('a' + i)) }

// plainDBError says in plain words why a database did not answer.
func plainDBError(s *dbSide, what string, err error) string {
	var me *mysql.MySQLError
	msg := err.Error()
	switch {
	case errors.As(err, &me) && (me.Number == 1045 || me.Number == 1044):
		msg = fmt.Sprintf("access denied (%d): check the user and password of database.%s", me.Number, s.name)
	case errors.As(err, &me) && (me.Number == 1227 || me.Number == 1142):
		msg = fmt.Sprintf("missing privilege (%d %s): the harness needs SELECT, CREATE, INSERT, DROP on its heartbeat table and REPLICATION CLIENT (SLAVE MONITOR on MariaDB)", me.Number, me.Message)
	case strings.Contains(msg, "connection refused"):
		msg = "connection refused: nothing listens there (is the server up, is the address right?)"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "i/o timeout"):
		msg = "no answer in time (a firewall, a wrong address, or the server hangs)"
	}
	return fmt.Sprintf("%s on master %s (%s): %s", what, s.name, RedactDSN(s.dsn), msg)
}

// readSide reads one master's replica state and settings. A side that does
// not answer comes back Reachable false with the reason.
func readSide(ctx context.Context, s *dbSide) history.DBSide {
	out := history.DBSide{Name: s.name}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.db.QueryRowContext(qctx, "SELECT @@auto_increment_increment, @@auto_increment_offset").Scan(&out.AutoIncInc, &out.AutoIncOff); err != nil {
		out.Err = plainDBError(s, "cannot read auto-increment settings", err)
		return out
	}
	out.Reachable = true
	var pos sql.NullString
	if err := s.db.QueryRowContext(qctx, "SELECT @@gtid_binlog_pos").Scan(&pos); err == nil {
		out.GTIDBinlog = pos.String
	}
	st, err := replicaStatus(qctx, s.db)
	if err != nil {
		out.LastIOError = plainDBError(s, "cannot read the replica status", err)
		out.LastIOErrno = -1
		return out
	}
	if st == nil {
		out.LastIOError = "no replication configured: SHOW REPLICA STATUS is empty, this master does not replicate from the other"
		out.LastIOErrno = -1
		return out
	}
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := st[strings.ToLower(n)]; ok {
				return v
			}
		}
		return ""
	}
	out.IORunning = get("Slave_IO_Running", "Replica_IO_Running") == "Yes"
	out.SQLRunning = get("Slave_SQL_Running", "Replica_SQL_Running") == "Yes"
	out.LastIOErrno, _ = strconv.Atoi(get("Last_IO_Errno"))
	out.LastIOError = get("Last_IO_Error")
	out.LastSQLErrno, _ = strconv.Atoi(get("Last_SQL_Errno"))
	out.LastSQLError = get("Last_SQL_Error")
	out.GTIDSlavePos = get("Gtid_Slave_Pos")
	return out
}

// replicaStatus reads the first row of SHOW REPLICA STATUS (MySQL 8.0.22+,
// MariaDB 10.5.1+) or SHOW SLAVE STATUS (older), keyed by lower-case
// column name; nil when the server is no replica.
func replicaStatus(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW REPLICA STATUS")
	if err != nil {
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1064 {
			return nil, err
		}
		if rows, err = db.QueryContext(ctx, "SHOW SLAVE STATUS"); err != nil {
			return nil, err
		}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cols))
	for i, c := range cols {
		out[strings.ToLower(c)] = vals[i].String
	}
	return out, rows.Err()
}

// quoteTable quotes a validated table name (name or schema.name).
func quoteTable(t string) string {
	parts := strings.Split(t, ".")
	for i, p := range parts {
		parts[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(parts, ".")
}

// checksums runs CHECKSUM TABLE on one side; a missing table is -1.
func checksums(ctx context.Context, s *dbSide, tables []string) (map[string]int64, error) {
	out := make(map[string]int64, len(tables))
	for _, t := range tables {
		var name string
		var sum sql.NullInt64
		if err := s.db.QueryRowContext(ctx, "CHECKSUM TABLE "+quoteTable(t)).Scan(&name, &sum); err != nil {
			return nil, fmt.Errorf("checksum %s: %w", t, err)
		}
		if !sum.Valid {
			out[t] = -1
			continue
		}
		out[t] = sum.Int64
	}
	return out, nil
}

func equalSums(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
