package check

import (
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

func restart(from, to float64) history.Fault {
	return history.Fault{Name: "balancer-restart", Target: "balancer", Injected: at(from), Recovered: at(to), BalancerFault: true}
}

// TestStickinessAcrossBalancerRestart: a restarted balancer has lost its
// affinity table, so each client may be pinned afresh once; a second move,
// a move before the restart, or a return to the old provider later is
// still a move.
func TestStickinessAcrossBalancerRestart(t *testing.T) {
	inv := Stickiness{Grace: time.Second}
	cases := []tcase{
		{"one move across the restart is a re-balance", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(4.5, "u1", "", 0, errText("connection refused")), rq(6, "u1", "p2", 200), rq(30, "u1", "p2", 200),
			rq(1, "u2", "p2", 200), rq(6, "u2", "p2", 200),
		), restart(4, 5)), reports.Pass, []string{"1 re-pinned once by the balancer after its restart"}},
		{"an idle client pinned afresh long after the restart", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(40, "u1", "p2", 200),
		), restart(4, 5)), reports.Pass, []string{"1 re-pinned once"}},
		{"a second move after the restart is a move (negative control)", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(6, "u1", "p2", 200), rq(7, "u1", "p1", 200),
		), restart(4, 5)), reports.Fail, []string{"p2 at +6.000s → p1 at +7.000s while p2 was not faulted"}},
		{"a move before the restart is a move", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(3, "u1", "p2", 200), rq(6, "u1", "p2", 200),
		), restart(4, 5)), reports.Fail, []string{"p1 at +1.000s → p2 at +3.000s"}},
		{"moving back later is a move, not a fail-back", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(6, "u1", "p2", 200), rq(30, "u1", "p1", 200),
		), restart(4, 5)), reports.Fail, []string{"p2 at +6.000s → p1 at +30.000s while p2 was not faulted"}},
		{"a provider fault does not excuse what a restart would", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(6, "u1", "p2", 200),
		), crash("p2", 4, 5)), reports.Fail, nil},
	}
	runCases(t, cases)
}

// TestResponsivenessExcusesTheRestart: users refused or held while the
// balancer restarts are the restart's, not a slow setup's; outside its
// window nothing is excused.
func TestResponsivenessExcusesTheRestart(t *testing.T) {
	inv := Responsiveness{Max: time.Second, Grace: time.Second}
	slow := func(r *history.Request) { r.Latency = 3 * time.Second }
	cases := []tcase{
		{"held through the restart", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(4.2, "u1", "p1", 200, slow), rq(8, "u1", "p1", 200),
		), restart(4, 5)), reports.Pass, nil},
		{"held long after it", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(10, "u1", "p1", 200, slow),
		), restart(4, 5)), reports.Fail, nil},
	}
	runCases(t, cases)
}

// TestFailoverLeavesSpillsToTheNextOutage: a request in flight when the
// next outage begins, disrupted by it, does not make the outage before it
// look as if it never recovered.
func TestFailoverLeavesSpillsToTheNextOutage(t *testing.T) {
	inv := Failover{MaxRecovery: 5 * time.Second, Budget: 10}
	inFlight := func(r *history.Request) { r.Latency = 500 * time.Millisecond; r.Err, r.Status = "connection reset", 0 }
	h := withFaults(hist(
		rq(3, "u1", "p1", 200), rq(4.5, "u1", "", 0, errText("refused")), rq(5, "u1", "p2", 200), rq(19, "u1", "p2", 200),
		rq(19.9, "u1", "p2", 0, inFlight), rq(21, "u1", "p1", 200), rq(25, "u1", "p1", 200),
	), crash("p1", 4, 10), crash("p2", 20, 30))
	runCases(t, []tcase{{"the spill is the next outage's", inv, h, reports.Pass, []string{"provider-crash p1 at +4.000s: recovered in 1.000s, 1 failed requests", "provider-crash p2 at +20.000s: recovered in 1.000s, 1 failed requests"}}})
}

// TestSessionLossCountsAgainstTheLatestFault: a user who loses its session
// once in each of two outages whose windows overlap (the first's grace
// runs past the second's start) lost it once per outage, not twice in the
// first.
func TestSessionLossCountsAgainstTheLatestFault(t *testing.T) {
	inv := SessionContinuity{Grace: 2 * time.Second, MaxLossesPerUser: 1, MaxLossesPerFault: 10}
	h := withFaults(hist(
		rq(1, "u1", "p1", 200, op(history.OpLogin), tok("", "a")),
		rq(5, "u1", "p2", 401, tok("a", "")), rq(5.5, "u1", "p2", 200, op(history.OpLogin), tok("", "b")),
		rq(10.5, "u1", "p1", 401, tok("b", "")), rq(11, "u1", "p1", 200, op(history.OpLogin), tok("", "c")),
	), crash("p1", 4, 9.8), crash("p2", 10, 15))
	runCases(t, []tcase{{"one loss per outage", inv, h, reports.Pass, nil}})
}
