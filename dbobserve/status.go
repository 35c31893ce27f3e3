package dbobserve

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Status is one side's replica state and settings.
type Status struct {
	Side Side
	// Reachable is true when the side answered the settings query; Err
	// says why not.
	Reachable bool
	Err       error
	// ReplicaErr is why the replica status could not be read of a side
	// that answered (a missing privilege, say).
	ReplicaErr error
	// Configured is false when the side is no replica (SHOW REPLICA STATUS
	// is empty).
	Configured   bool
	IOState      string // Slave_IO_Running as reported (Yes, No, Connecting)
	IORunning    bool
	SQLRunning   bool
	LastIOErrno  int
	LastIOError  string
	LastSQLErrno int
	LastSQLError string
	SQLDelay     int
	Settings
}

// Status reads side s's settings and replica status within the observer's
// read timeout. An unreachable side is reported in the result, not as an
// error.
func (o *Observer) Status(ctx context.Context, s Side) Status {
	x := Status{Side: s}
	ctx, cancel := context.WithTimeout(ctx, o.readTimeout)
	defer cancel()
	set, err := o.Settings(ctx, s)
	if err != nil {
		x.Err = err
		return x
	}
	x.Reachable, x.Settings = true, set
	db, err := o.DB(ctx, s)
	if err == nil {
		var row map[string]string
		if row, err = replicaStatus(ctx, db); err == nil && row != nil {
			x.fill(row)
		}
	}
	if err != nil {
		x.ReplicaErr = &SideError{Side: s, What: "cannot read the replica status", Err: err}
	}
	return x
}

// Both reads both sides' status.
func (o *Observer) Both(ctx context.Context) [2]Status {
	return [2]Status{o.Status(ctx, A), o.Status(ctx, B)}
}

// Healthy reports whether both replica threads run.
func (x Status) Healthy() bool { return x.IORunning && x.SQLRunning }

func (x *Status) fill(row map[string]string) {
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := row[strings.ToLower(n)]; ok {
				return v
			}
		}
		return ""
	}
	x.Configured = true
	x.IOState = get("Slave_IO_Running", "Replica_IO_Running")
	x.IORunning = x.IOState == "Yes"
	x.SQLRunning = get("Slave_SQL_Running", "Replica_SQL_Running") == "Yes"
	x.LastIOErrno, _ = strconv.Atoi(get("Last_IO_Errno"))
	x.LastIOError = get("Last_IO_Error")
	x.LastSQLErrno, _ = strconv.Atoi(get("Last_SQL_Errno"))
	x.LastSQLError = get("Last_SQL_Error")
	x.SQLDelay, _ = strconv.Atoi(get("SQL_Delay"))
	if x.GTIDSlavePos == "" {
		x.GTIDSlavePos = get("Gtid_Slave_Pos")
	}
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
