package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

func sideName(i int) string { return string(rune('a' + i)) }

// plainDBError says in plain words why master side (reached with dsn) did
// not answer; the DSN is shown redacted.
func plainDBError(side, dsn, what string, err error) string {
	var me *mysql.MySQLError
	msg := err.Error()
	switch {
	case errors.As(err, &me) && (me.Number == 1045 || me.Number == 1044):
		msg = fmt.Sprintf("access denied (%d): check the user and password of database.%s", me.Number, side)
	case errors.As(err, &me) && (me.Number == 1227 || me.Number == 1142):
		msg = fmt.Sprintf("missing privilege (%d %s): the harness needs SELECT, CREATE, INSERT, DROP on its heartbeat table and REPLICATION CLIENT (SLAVE MONITOR on MariaDB)", me.Number, me.Message)
	case strings.Contains(msg, "connection refused"):
		msg = "connection refused: nothing listens there (is the server up, is the address right?)"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "i/o timeout"):
		msg = "no answer in time (a firewall, a wrong address, or the server hangs)"
	}
	return fmt.Sprintf("%s on master %s (%s): %s", what, side, RedactDSN(dsn), msg)
}
