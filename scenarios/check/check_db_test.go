package check

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

func side(name string, inc, off int) history.DBSide {
	return history.DBSide{Name: name, Reachable: true, IORunning: true, SQLRunning: true, AutoIncInc: inc, AutoIncOff: off,
		Checksums: map[string]int64{"messages": 10, "users": 20}, Messages: map[string]int{}}
}

// dbHist is a history with a healthy converged pair and the given sides changed by f.
func dbHist(f func(db *history.DBState), reqs ...history.Request) *history.History {
	h := hist(reqs...)
	db := &history.DBState{Sides: []history.DBSide{side("a", 2, 1), side("b", 2, 2)}, Converged: true, ConvergeWait: 400 * time.Millisecond}
	if f != nil {
		f(db)
	}
	h.Final.DB = db
	return h
}

func dbFault(from, to float64) history.Fault {
	return history.Fault{Name: "replication-cut", Target: "replication", Injected: at(from), Recovered: at(to), DatabaseFault: true}
}

func TestReplicationLag(t *testing.T) {
	inv := ReplicationLag{Max: 100 * time.Millisecond, Grace: 2 * time.Second}
	lag := func(h *history.History, ss ...history.LagSample) *history.History { h.Final.Lag = ss; return h }
	sample := func(sec float64, l time.Duration, err string) history.LagSample {
		return history.LagSample{At: at(sec), From: "a", Lag: l, Err: err}
	}
	cases := []tcase{
		{"small lag", inv, lag(hist(), sample(1, time.Millisecond, ""), sample(2, 3*time.Millisecond, "")), reports.Pass, []string{"max lag 3ms", "2 samples"}},
		{"lag above the bound (negative control: replication delay)", inv, lag(hist(), sample(1, time.Millisecond, ""), sample(2, 2*time.Second, "")),
			reports.Fail, []string{"+2.000s lag from a 2s > 100ms"}},
		{"heartbeat lost", inv, lag(hist(), sample(1, 0, "not seen within 5s")), reports.Fail, []string{"not seen within 5s"}},
		{"inside a database fault window and its grace", inv, withFaults(lag(hist(),
			sample(1, time.Millisecond, ""), sample(11, 5*time.Second, ""), sample(21, 0, "timeout"), sample(23, time.Millisecond, ""),
		), dbFault(10, 20)), reports.Pass, []string{"2 inside ignored"}},
		{"a heartbeat written just before a cut and lost to it felt the cut", inv, withFaults(lag(hist(),
			sample(9.95, 0, "not seen within 5s")), dbFault(10, 20)), reports.Skip, []string{"inside database fault windows"}},
		{"... but lag that ended before the window did not", inv, withFaults(lag(hist(),
			sample(5, 4*time.Second, "")), dbFault(10, 20)), reports.Fail, []string{"+5.000s lag from a 4s > 100ms"}},
		{"provider faults do not excuse lag", inv, withFaults(lag(hist(), sample(11, 5*time.Second, "")), crash("p1", 10, 20)), reports.Fail, nil},
		{"all inside windows", inv, withFaults(lag(hist(), sample(11, 5*time.Second, "")), dbFault(10, 20)), reports.Skip, []string{"inside database fault windows"}},
		{"no samples", inv, hist(), reports.Skip, []string{"no replication lag samples"}},
	}
	runCases(t, cases)
}

func TestReplicationConvergence(t *testing.T) {
	inv := ReplicationConvergence{MaxWait: 10 * time.Second}
	cases := []tcase{
		{"equal checksums", inv, dbHist(nil), reports.Pass, []string{"2 tables equal on 2 sides after 400ms"}},
		{"silent divergence (negative control: conflicting update)", inv, dbHist(func(db *history.DBState) {
			db.Sides[1].Checksums = map[string]int64{"messages": 11, "users": 20}
		}), reports.Fail, []string{"table messages: a=10, b=11"}},
		{"diverged rows are the witness", inv, dbHist(func(db *history.DBState) {
			db.Converged = false
			db.Sides[1].Checksums = map[string]int64{"messages": 11, "users": 20}
			db.RowDiffs = []history.RowDiff{
				{Table: "sessions", Key: "id=17", Columns: []history.ColumnDiff{{Name: "gen", A: "11", B: "9"}, {Name: "secret", A: "dd49", B: "a019"}}},
				{Table: "messages", Key: "id=24", Missing: "b"},
			}
			db.RowDiffErr = "table x has no primary key"
		}), reports.Fail, []string{"sessions row id=17: gen a=11 b=9; secret a=dd49 b=a019", "messages row id=24: missing on b",
			"rows could not be compared: table x has no primary key"}},
		{"table missing on one side", inv, dbHist(func(db *history.DBState) {
			db.Sides[1].Checksums = map[string]int64{"messages": 10}
		}), reports.Fail, []string{"table users: a=20, b=missing"}},
		{"not converged", inv, dbHist(func(db *history.DBState) { db.Converged = false; db.ConvergeWait = time.Minute }),
			reports.Fail, []string{"did not converge within the 1m0s"}},
		{"not converged, the wait ended on a stopped replica", inv, dbHist(func(db *history.DBState) {
			db.Converged, db.ConvergeWait = false, 3*time.Millisecond
			db.WaitEnded = "replication into b stopped on error 1062 (Duplicate entry)"
		}), reports.Fail, []string{"stopped waiting after 3ms: replication into b stopped on error 1062"}},
		{"converged too slowly", inv, dbHist(func(db *history.DBState) { db.ConvergeWait = 20 * time.Second }),
			reports.Fail, []string{"converging took 20s > 10s"}},
		{"unreachable side", inv, dbHist(func(db *history.DBState) { db.Sides[1].Reachable = false; db.Sides[1].Err = "refused" }),
			reports.Fail, []string{"side b unreachable: refused"}},
		{"no checksums", inv, dbHist(func(db *history.DBState) { db.Sides[0].Checksums = nil; db.Sides[1].Checksums = nil }),
			reports.Skip, []string{"checksums"}},
		{"no database state", inv, hist(), reports.Skip, []string{"no final database state"}},
	}
	runCases(t, cases)
}

func send(sec float64, u, id string, status int) history.Request {
	return rq(sec, u, "p1", status, msg(id))
}

func TestNoLostWrites(t *testing.T) {
	inv := NoLostWrites{}
	rows := func(a, b map[string]int) func(*history.DBState) {
		return func(db *history.DBState) { db.Sides[0].Messages, db.Sides[1].Messages = a, b }
	}
	sends := []history.Request{send(1, "u1", "m1", 201), send(2, "u1", "m2", 201), send(3, "u1", "m2", 200), send(4, "u2", "m3", 503), send(5, "u2", "m4", 0)}
	all := map[string]int{"m1": 1, "m2": 1}
	cases := []tcase{
		{"every acked write on both sides once", inv, dbHist(rows(all, all), sends...), reports.Pass, []string{"all 2 acknowledged messages are on sides a and b"}},
		{"unacked writes may be anywhere", inv, dbHist(rows(map[string]int{"m1": 1, "m2": 1, "m3": 1}, all), sends...), reports.Pass, nil},
		{"lost on one side (negative control: replication stopped)", inv, dbHist(rows(all, map[string]int{"m1": 1}), sends...),
			reports.Fail, []string{"message m2 missing on b", "1 acknowledged messages missing and 0 duplicated"}},
		{"duplicated", inv, dbHist(rows(all, map[string]int{"m1": 2, "m2": 1}), sends...), reports.Fail, []string{"message m1 2 times on b"}},
		{"one-way: only the configured side", NoLostWrites{Sides: []string{"b"}}, dbHist(func(db *history.DBState) {
			db.OneWay = true
			rows(map[string]int{}, all)(db)
		}, sends...), reports.Pass, []string{"side b exactly once"}},
		{"configured side absent", NoLostWrites{Sides: []string{"c"}}, dbHist(rows(all, all), sends...), reports.Fail, []string{"side c is not in the final state"}},
		{"unreachable side", inv, dbHist(func(db *history.DBState) { rows(all, all)(db); db.Sides[0].Reachable = false }, sends...),
			reports.Fail, []string{"side a unreachable"}},
		{"no acked sends", inv, dbHist(nil, send(1, "u1", "m1", 500)), reports.Skip, []string{"no acknowledged sends"}},
		{"no database", inv, hist(sends...), reports.Skip, nil},
	}
	runCases(t, cases)
}

func TestAutoIncrement(t *testing.T) {
	inv := AutoIncrement{}
	set := func(incA, offA, incB, offB int) func(*history.DBState) {
		return func(db *history.DBState) {
			db.Sides[0].AutoIncInc, db.Sides[0].AutoIncOff = incA, offA
			db.Sides[1].AutoIncInc, db.Sides[1].AutoIncOff = incB, offB
		}
	}
	cases := []tcase{
		{"2/1 and 2/2", inv, dbHist(set(2, 1, 2, 2)), reports.Pass, []string{"a=(2,1) b=(2,2)"}},
		{"10/1 and 10/2", inv, dbHist(set(10, 1, 10, 2)), reports.Pass, nil},
		{"2/1 and 4/2 never meet", inv, dbHist(set(2, 1, 4, 2)), reports.Pass, nil},
		{"equal offsets (negative control)", inv, dbHist(set(2, 1, 2, 1)), reports.Fail, []string{"generate the same keys"}},
		{"default increment 1", inv, dbHist(set(1, 1, 1, 1)), reports.Fail, []string{"auto_increment_increment=1, want ≥ 2"}},
		{"2/1 and 4/3 meet", inv, dbHist(set(2, 1, 4, 3)), reports.Fail, []string{"generate the same keys"}},
		{"offset above increment", inv, dbHist(set(2, 1, 2, 4)), reports.Fail, []string{"outside 1..2"}},
		{"three masters on increment 2", inv, dbHist(func(db *history.DBState) {
			db.Sides = append(db.Sides, side("c", 2, 2))
			set(2, 1, 2, 2)(db)
		}), reports.Fail, []string{"want ≥ 3"}},
		{"duplicate-key stop", inv, dbHist(func(db *history.DBState) {
			db.Sides[1].LastSQLErrno, db.Sides[1].LastSQLError, db.Sides[1].SQLRunning = 1062, "Duplicate entry '3' for key 'PRIMARY'", false
		}), reports.Fail, []string{"side b replication stopped on a duplicate key (1062)"}},
		{"one-way ignores offsets", inv, dbHist(func(db *history.DBState) { db.OneWay = true; set(1, 1, 1, 1)(db) }), reports.Pass, []string{"one-way"}},
		{"unreachable side", inv, dbHist(func(db *history.DBState) { db.Sides[1].Reachable = false }), reports.Skip, []string{"only 1 of 2"}},
		{"no database", inv, hist(), reports.Skip, nil},
	}
	runCases(t, cases)
}

func TestReplicationHealth(t *testing.T) {
	inv := ReplicationHealth{}
	cases := []tcase{
		{"both replicating", inv, dbHist(nil), reports.Pass, []string{"2 of 2 sides"}},
		{"IO thread down (negative control: replication stopped)", inv, dbHist(func(db *history.DBState) {
			db.Sides[0].IORunning, db.Sides[0].LastIOErrno, db.Sides[0].LastIOError = false, 2005, "Unknown server host"
		}), reports.Fail, []string{"side a: IO running false (errno 2005 Unknown server host)"}},
		{"SQL error while running", inv, dbHist(func(db *history.DBState) { db.Sides[1].LastSQLErrno = 1950 }), reports.Fail, []string{"errno 1950"}},
		{"unreachable", inv, dbHist(func(db *history.DBState) { db.Sides[1].Reachable = false }), reports.Fail, []string{"side b unreachable"}},
		{"one-way: any one replica", inv, dbHist(func(db *history.DBState) {
			db.OneWay = true
			db.Sides[0].IORunning, db.Sides[0].SQLRunning = false, false
		}), reports.Pass, []string{"1 of 2"}},
		{"one-way: no replica", inv, dbHist(func(db *history.DBState) {
			db.OneWay = true
			db.Sides[0].IORunning, db.Sides[1].SQLRunning = false, false
		}), reports.Fail, []string{"side a", "side b"}},
		{"one-way: the named replica is down", ReplicationHealth{Sides: []string{"b"}}, dbHist(func(db *history.DBState) {
			db.OneWay = true
			db.Sides[1].SQLRunning = false
		}), reports.Fail, []string{"side b"}},
		{"no database", inv, hist(), reports.Skip, nil},
	}
	runCases(t, cases)
}

func TestClearing(t *testing.T) {
	inv := Clearing{}
	clearing := func(h *history.History, c map[string]int) *history.History {
		h.Final.Clearing = &history.ClearingState{Cleared: c}
		return h
	}
	sends := []history.Request{send(1, "u1", "m1", 201), send(2, "u1", "m2", 201), send(3, "u1", "m2", 200), send(4, "u2", "m3", 502)}
	cases := []tcase{
		{"cleared once each", inv, clearing(hist(sends...), map[string]int{"m1": 1, "m2": 1}), reports.Pass, []string{"all 2"}},
		{"lost on a cut clearing link (negative control)", inv, clearing(hist(sends...), map[string]int{"m1": 1}), reports.Fail,
			[]string{"message m2 never cleared", "1 of 2 acknowledged messages never cleared, 0 cleared more than once"}},
		{"cleared twice", inv, clearing(hist(sends...), map[string]int{"m1": 2, "m2": 1}), reports.Fail, []string{"m1 cleared 2 times"}},
		{"no clearing state", inv, hist(sends...), reports.Skip, []string{"no clearing state"}},
		{"no acked sends", inv, clearing(hist(), map[string]int{}), reports.Skip, []string{"no acknowledged sends"}},
	}
	runCases(t, cases)
}

func TestAllNamesAreCanonical(t *testing.T) {
	// Every lab invariant is a registered, canonical name (the order is
	// pinned by TestAllIsPinned).
	for _, inv := range All(DefaultBounds()) {
		_, ok := Lookup(inv.Name())
		assert.True(t, ok, "%s is not registered", inv.Name())
	}
	// An empty history is judged without panics, every invariant skipping.
	for _, v := range Run(&history.History{}, All(DefaultBounds())) {
		assert.Equal(t, reports.Skip, v.Verdict, "%s on an empty history: %s", v.Name, v.Summary)
	}
}
