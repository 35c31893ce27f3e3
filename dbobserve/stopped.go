package dbobserve

import (
	"fmt"
	"time"
)

// StoppedFor is how long a replica thread stopped without an error must
// stay stopped before a wait with GiveUpWhenStopped gives up: a server
// restarted by a fault's recovery starts its replica within milliseconds.
const StoppedFor = 1500 * time.Millisecond

// stoppedSince follows, round after round of a wait, since when each
// side's replica has been stopped without an error.
type stoppedSince struct {
	since [2]time.Time
}

// check returns why waiting on is pointless ("" when it is not): a side
// whose replica stopped on an error, or stopped without one for
// StoppedFor. With oneWay, a's replica (none on purpose) is not looked at.
// An unreachable side, or one whose replica status cannot be read, may
// come back: it is not a reason.
func (s *stoppedSince) check(st [2]Status, oneWay bool, now time.Time) string {
	for _, x := range st {
		if oneWay && x.Side == A {
			continue
		}
		if !x.Reachable || x.ReplicaErr != nil || !x.Configured || (x.SQLRunning && x.IORunning) || x.IOState == "Connecting" && x.SQLRunning {
			s.since[x.Side] = time.Time{}
			continue
		}
		switch {
		case !x.SQLRunning && x.LastSQLErrno != 0:
			return fmt.Sprintf("replication into %s stopped on error %d (%s): it applies nothing until it is restarted, so the wait ended", x.Side, x.LastSQLErrno, x.LastSQLError)
		case !x.IORunning && x.IOState != "Connecting" && x.LastIOErrno != 0:
			return fmt.Sprintf("replication into %s stopped on error %d (%s): it receives nothing until it is restarted, so the wait ended", x.Side, x.LastIOErrno, x.LastIOError)
		}
		if s.since[x.Side].IsZero() {
			s.since[x.Side] = now
		}
		if now.Sub(s.since[x.Side]) >= StoppedFor {
			return fmt.Sprintf("replication into %s has been stopped for %s (IO %s, SQL running %t, no error): nothing applies until it is started again, so the wait ended", x.Side, now.Sub(s.since[x.Side]).Round(100*time.Millisecond), x.IOState, x.SQLRunning)
		}
	}
	return ""
}
