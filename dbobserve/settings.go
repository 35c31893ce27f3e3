package dbobserve

import (
	"context"
	"database/sql"
	"errors"

	"github.com/go-sql-driver/mysql"
)

// Settings are what a replication-settings check needs of one server, and
// its GTID positions (MariaDB; empty on MySQL).
type Settings struct {
	ServerID               int
	GTIDDomainID           int
	BinlogFormat           string
	LogSlaveUpdates        bool
	ReadOnly               bool
	AutoIncrementIncrement int
	AutoIncrementOffset    int
	GTIDBinlogPos          string
	GTIDSlavePos           string
	GTIDCurrentPos         string
	// MariaDB is true when the server has MariaDB's GTID variables.
	MariaDB bool
}

// The server's own (global) values: a session's copy is taken when it
// connects and misses a SET GLOBAL made since, on a connection the harness
// keeps open across a change (a pooled pair shaped for a negative control:
// read per session, its MIXED binlogs passed as ROW).
const (
	settingsQuery = "SELECT @@global.server_id, @@global.gtid_domain_id, @@global.binlog_format, @@global.log_slave_updates, @@global.read_only," +
		" @@global.auto_increment_increment, @@global.auto_increment_offset, @@global.gtid_binlog_pos, @@global.gtid_slave_pos, @@global.gtid_current_pos"
	// settingsPortable is the query for servers without MariaDB's GTID
	// variables (MySQL).
	settingsPortable = "SELECT @@global.server_id, @@global.binlog_format, @@global.log_slave_updates, @@global.read_only," +
		" @@global.auto_increment_increment, @@global.auto_increment_offset"
	errUnknownVariable = 1193
)

// Settings reads side s's settings in one query. Variables need no
// privilege, so an error here means the server did not answer.
func (o *Observer) Settings(ctx context.Context, s Side) (Settings, error) {
	var st Settings
	db, err := o.DB(ctx, s)
	if err != nil {
		return st, err
	}
	var format, binlog, slave, current sql.NullString
	err = db.QueryRowContext(ctx, settingsQuery).Scan(&st.ServerID, &st.GTIDDomainID, &format, &st.LogSlaveUpdates, &st.ReadOnly,
		&st.AutoIncrementIncrement, &st.AutoIncrementOffset, &binlog, &slave, &current)
	st.MariaDB = err == nil
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == errUnknownVariable {
		err = db.QueryRowContext(ctx, settingsPortable).Scan(&st.ServerID, &format, &st.LogSlaveUpdates, &st.ReadOnly,
			&st.AutoIncrementIncrement, &st.AutoIncrementOffset)
	}
	if err != nil {
		return Settings{}, &SideError{Side: s, What: "cannot read the server settings", Err: err}
	}
	st.BinlogFormat, st.GTIDBinlogPos, st.GTIDSlavePos, st.GTIDCurrentPos = format.String, binlog.String, slave.String, current.String
	return st, nil
}
