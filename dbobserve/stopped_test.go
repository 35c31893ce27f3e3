package dbobserve

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestStoppedSince: when a wait for convergence may give up early. An
// error stops it at once, a replica stopped without one only once it has
// stayed stopped for StoppedFor; a healthy, reconnecting, unreachable or
// unread side never does, and neither does a one-way pair's a.
func TestStoppedSince(t *testing.T) {
	healthy := Status{Reachable: true, Configured: true, IOState: "Yes", IORunning: true, SQLRunning: true}
	dup := healthy
	dup.SQLRunning, dup.LastSQLErrno, dup.LastSQLError = false, 1062, "Duplicate entry"
	ioErr := healthy
	ioErr.IOState, ioErr.IORunning, ioErr.LastIOErrno, ioErr.LastIOError = "No", false, 1236, "could not find GTID"
	reconnecting := healthy
	reconnecting.IOState, reconnecting.IORunning, reconnecting.LastIOErrno = "Connecting", false, 2003
	byHand := healthy
	byHand.IOState, byHand.IORunning, byHand.SQLRunning = "No", false, false
	unreachable := Status{}
	unread := byHand
	unread.ReplicaErr = assert.AnError
	side := func(x Status, s Side) Status { x.Side = s; return x }
	t0 := time.Unix(1000, 0)

	cases := []struct {
		name   string
		rounds [][2]Status // one status per round, StoppedFor/2 apart
		oneWay bool
		want   string // in the reason of the round that gives up; "" never
	}{
		{name: "healthy", rounds: [][2]Status{{side(healthy, A), side(healthy, B)}}},
		{name: "stopped on a duplicate key: at once", rounds: [][2]Status{{side(healthy, A), side(dup, B)}}, want: "into b stopped on error 1062"},
		{name: "io thread failed: at once", rounds: [][2]Status{{side(ioErr, A), side(healthy, B)}}, want: "into a stopped on error 1236"},
		{name: "reconnecting after a heal: never", rounds: [][2]Status{{side(reconnecting, A), side(healthy, B)}, {side(reconnecting, A), side(healthy, B)}, {side(reconnecting, A), side(healthy, B)}}},
		{name: "stopped by hand: after StoppedFor", rounds: [][2]Status{{side(healthy, A), side(byHand, B)}, {side(healthy, A), side(byHand, B)}, {side(healthy, A), side(byHand, B)}}, want: "into b has been stopped for 1.5s"},
		{name: "stopped briefly by a restart: never", rounds: [][2]Status{{side(byHand, A), side(healthy, B)}, {side(byHand, A), side(healthy, B)}, {side(healthy, A), side(healthy, B)}, {side(byHand, A), side(healthy, B)}}},
		{name: "unreachable or unread: never", rounds: [][2]Status{{side(unreachable, A), side(unread, B)}, {side(unreachable, A), side(unread, B)}, {side(unreachable, A), side(unread, B)}}},
		{name: "one-way pair: a's replica is off on purpose", oneWay: true, rounds: [][2]Status{{side(byHand, A), side(healthy, B)}, {side(byHand, A), side(healthy, B)}, {side(byHand, A), side(healthy, B)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s stoppedSince
			got := ""
			for i, st := range tc.rounds {
				if got = s.check(st, tc.oneWay, t0.Add(time.Duration(i)*StoppedFor/2)); got != "" {
					break
				}
			}
			if tc.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tc.want)
		})
	}
}
