package check

import (
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

func TestAvailability(t *testing.T) {
	inv := Availability{Grace: time.Second}
	cases := []tcase{
		{"every request answered", inv, hist(
			rq(1, "u1", "p1", 200), rq(2, "u1", "p1", 401), rq(3, "u1", "p1", 404),
		), reports.Pass, []string{"3 requests outside fault windows"}},
		{"a 500 with no fault (negative control: a flaky provider)", inv, hist(
			rq(1, "u1", "p1", 200), rq(2, "u1", "p1", 500), rq(3, "u2", "p2", 200),
		), reports.Fail, []string{"1 of 3 requests outside fault windows failed", "p1 1", "#2 u1"}},
		{"a transport error with no fault", inv, hist(
			rq(1, "u1", "p1", 200), rq(2, "u1", "", 0, errText("connection refused")),
		), reports.Fail, []string{"(none) 1"}},
		{"failures inside a provider fault are failover's", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(5, "u1", "", 0, errText("eof")), rq(20.5, "u1", "p1", 503), rq(30, "u1", "p1", 200),
		), crash("p1", 4, 20)), reports.Pass, nil},
		{"failures inside a balancer restart are the restart's", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(4.5, "u1", "", 0, errText("connection refused")), rq(8, "u1", "p2", 200),
		), restart(4, 5)), reports.Pass, nil},
		{"a database fault excuses no failed request", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(5, "u1", "p1", 503),
		), history.Fault{Name: "replication-cut", Injected: at(4), Recovered: at(8), DatabaseFault: true}), reports.Fail, nil},
		{"probes are not users", inv, hist(
			rq(1, "u1", "p1", 200), rq(2, "u1", "", 0, op(history.OpTLS), errText("handshake refused")),
		), reports.Pass, nil},
	}
	runCases(t, cases)
}
