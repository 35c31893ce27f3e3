package check

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// sbToken is a token in the fake provider's form <sid>.<gen>.<secret>,
// with 32-character sid and secret made from the given letters.
func sbToken(sid string, gen int, secret string) string {
	return strings.Repeat(sid, 32/len(sid)) + "." + strconv.Itoa(gen) + "." + sbSecret(secret)
}

func sbSecret(s string) string { return strings.Repeat(s, 32/len(s)) }

// sbHist is a history with a replication partition from 2 s to 5 s, the
// given requests and a final pair whose sessions tables are equal; f
// changes the final state.
func sbHist(f func(db *history.DBState), reqs ...history.Request) *history.History {
	h := dbHist(func(db *history.DBState) {
		for i := range db.Sides {
			db.Sides[i].Checksums["sessions"] = 30
		}
		if f != nil {
			f(db)
		}
	}, reqs...)
	return withFaults(h, dbFault(2, 5))
}

// forked makes side a hold secret a and side b secret b of the session row
// id=7 (same generation), as plain row-based replication leaves a fork.
func forked(a, b string, genA, genB string) func(db *history.DBState) {
	return func(db *history.DBState) {
		db.Converged = false
		db.Sides[1].Checksums["sessions"] = 31
		cols := []history.ColumnDiff{{Name: "secret", A: sbSecret(a), B: sbSecret(b)}}
		if genA != genB {
			cols = append([]history.ColumnDiff{{Name: "gen", A: genA, B: genB}}, cols...)
		}
		db.RowDiffs = append(db.RowDiffs, history.RowDiff{Table: "sessions", Key: "id=7", Columns: cols})
	}
}

func TestSplitBrain(t *testing.T) {
	inv := SplitBrain{Grace: time.Second}
	t0 := sbToken("a", 1, "0")
	t1a, t1b := sbToken("a", 2, "1"), sbToken("a", 2, "2")
	// The probe's user logs in before the partition, then presents its
	// token at p1 and, from another address, at p2 while partitioned.
	login := rq(1, "u001", "p1", 200, op(history.OpLogin), tok("", t0), session("u001"))
	atP1 := rq(2.5, "u001", "p1", 200, tok(t0, t1a), session("u001"))
	atP2 := rq(2.6, "u001", "p2", 200, tok(t0, t1b), session("u001"), func(r *history.Request) { r.SourceIP = "127.0.10.254" })
	// Another user, pinned to p2, works through the partition.
	other := []history.Request{
		rq(1.5, "u002", "p2", 200, tok(sbToken("b", 1, "3"), sbToken("b", 2, "4")), session("u002")),
		rq(3, "u002", "p2", 200, tok(sbToken("b", 2, "4"), sbToken("b", 3, "5")), session("u002")),
	}
	reqs := func(rs ...history.Request) []history.Request {
		return append(append([]history.Request{}, other...), rs...)
	}

	cases := []tcase{
		{"no fork: each user on one provider", inv, sbHist(nil, reqs(login, rq(2.5, "u001", "p1", 200, tok(t0, t1a)))...),
			reports.Pass, []string{"requests during 1 partition:", "no session token was accepted on both sides", "sessions tables are equal"}},
		{"fork caught: the masters keep different branches (negative control: triggers not run for replicated rows)", inv,
			sbHist(forked("2", "1", "", ""), reqs(login, atP1, atP2)...), reports.Fail,
			[]string{"u001: token aaaaaaaa… accepted by p1 at +2.500s", "and by p2 at +2.600s", "during the partition +2.000s–+5.000s",
				"sessions row id=7", "master a holds p2's branch", "master b holds p1's branch"}},
		{"fork reconciled: the newest token won on both masters", inv, sbHist(nil, reqs(login, atP1, atP2)...),
			reports.Pass, []string{"reconciled at the heal", "u001's aaaaaaaa… by p1 and p2"}},
		{"a retry with the same token on one provider is not a fork", inv, sbHist(nil, reqs(login,
			rq(2.5, "u001", "p1", 0, tok(t0, ""), errText("timeout")),
			rq(2.7, "u001", "p1", 200, tok(t0, t1a)))...),
			reports.Pass, []string{"no session token was accepted on both sides"}},
		{"one provider accepting a token twice is not a fork of the masters", inv, sbHist(nil, reqs(login, atP1,
			rq(2.7, "u001", "p1", 200, tok(t0, t1b)))...),
			reports.Pass, []string{"no session token was accepted on both sides"}},
		{"both branches still accepted after the heal", inv, sbHist(nil, reqs(login, atP1, atP2,
			rq(7, "u001", "p1", 200, tok(t1a, sbToken("a", 3, "6"))),
			rq(7.5, "u001", "p2", 200, tok(t1b, sbToken("a", 3, "7"))))...),
			reports.Fail, []string{"both branches were still accepted after the heal at +5.000s", "p1 accepted", "p2 accepted"}},
		{"the losing branch refused after the heal", inv, sbHist(nil, reqs(login, atP1, atP2,
			rq(7, "u001", "p1", 200, tok(t1a, sbToken("a", 3, "6"))),
			rq(7.5, "u001", "p2", 401, tok(t1b, "")))...),
			reports.Pass, []string{"reconciled"}},
		{"fork, sessions differ elsewhere: not shown reconciled", inv, sbHist(func(db *history.DBState) {
			db.Sides[1].Checksums["sessions"] = 31
		}, reqs(login, atP1, atP2)...),
			reports.Fail, []string{"not shown reconciled", "checksums a=30, b=31"}},
		{"fork seen on the masters only (requests not recorded)", inv, sbHist(forked("8", "9", "", ""), reqs(login)...),
			reports.Fail, []string{"sessions row id=7: both masters hold the same generation", "a=…88888888", "b=…99999999"}},
		{"fork on the masters names who got each token", inv, sbHist(forked("1", "9", "", ""), reqs(login, atP1)...),
			reports.Fail, []string{"a=…11111111 given to u001 by p1 at +2.500s"}},
		{"a stale row (replication stopped) is not a fork", inv, sbHist(forked("4", "5", "2", "3"), reqs(login)...),
			reports.Pass, []string{"no sessions row the harness compared is forked"}},
		{"message id acknowledged on both sides with different content", inv, sbHist(nil, reqs(
			rq(2.5, "u003", "p1", 201, msg("m1")), rq(2.6, "u004", "p2", 201, msg("m1")))...),
			reports.Fail, []string{"message id m1 acknowledged on both sides with different content: by u003 via p1 at +2.500s and by u004 via p2 at +2.600s"}},
		{"one user's message acknowledged on both sides is one content", inv, sbHist(nil, reqs(
			rq(2.5, "u003", "p1", 201, msg("m1")), rq(2.6, "u003", "p2", 201, msg("m1")))...),
			reports.Pass, nil},
		{"fork without a final database state", inv, withFaults(hist(reqs(login, atP1, atP2)...), dbFault(2, 5)),
			reports.Skip, []string{"no final database state"}},
		{"skipped without a partition", inv, dbHist(nil, reqs(login, atP1, atP2)...),
			reports.Skip, []string{"no replication partition"}},
		{"provider faults are no partition", inv, withFaults(dbHist(nil, reqs(login, atP1, atP2)...), crash("p1", 2, 5)),
			reports.Skip, []string{"no replication partition"}},
		{"skipped without a request during the partition", inv, withFaults(dbHist(nil, login), dbFault(2, 5)),
			reports.Skip, []string{"no request was made while the masters were partitioned"}},
	}
	runCases(t, cases)
}
