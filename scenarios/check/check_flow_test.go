package check

import (
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// Histories of a custom session flow (a deployment's own application): a
// lost session is a redirect to the login page (LoggedOut), answers name no
// provider unless the flow has a backend, the session's user is inferred.

func lostTo(loc string) mod {
	return func(r *history.Request) { r.Status, r.Location, r.LoggedOut, r.SessionUser = 302, loc, true, "" }
}

func custom(h *history.History, backend string, rotates bool) *history.History {
	h.Meta.Session = &history.SessionFacts{Flow: "custom", Cookie: "APPSESSION", Rotates: rotates, Backend: backend}
	return h
}

func TestSessionContinuityOfACustomFlow(t *testing.T) {
	inv := SessionContinuity{Grace: time.Second, MaxLossesPerFault: 1}
	login := func(sec float64, u, got string) history.Request {
		return rq(sec, u, "", 302, op(history.OpLogin), tok("", got))
	}
	cases := []tcase{
		{"a redirect to the login page on the newest token is a lost session", inv, custom(hist(
			login(1, "u1", "a"), rq(2, "u1", "", 200, session("u1"), tok("a", "b")), rq(3, "u1", "", 0, tok("b", ""), lostTo("/login")),
		), "", true), reports.Fail, []string{"1 users were logged out outside a failover"}},
		{"a cookie that stays fails when the flow says rotates", inv, custom(hist(
			login(1, "u1", "a"), rq(2, "u1", "", 200, session("u1"), tok("a", "")),
		), "", true), reports.Fail, []string{"did not rotate"}},
		{"... and is not judged when it says rotates: false", inv, custom(hist(
			login(1, "u1", "a"), rq(2, "u1", "", 200, session("u1"), tok("a", "")),
		), "", false), reports.Pass, []string{"rotation not judged (the session flow says rotates: false)"}},
	}
	runCases(t, cases)
}

func TestStickinessWithoutBackendIdentity(t *testing.T) {
	inv := Stickiness{Grace: time.Second}
	login := func(sec float64, u, got string) history.Request {
		return rq(sec, u, "", 302, op(history.OpLogin), tok("", got))
	}
	cases := []tcase{
		{"sessions kept: passes, and says how it was judged", inv, custom(hist(
			login(1, "u1", "a"), rq(2, "u1", "", 200, session("u1"), tok("a", "b")), rq(3, "u1", "", 200, session("u1"), tok("b", "c")),
		), "", true), reports.Pass, []string{"judged from session continuity alone", "set backend:"}},
		{"a session lost while healthy is a move (negative control: round robin)", inv, custom(hist(
			login(1, "u1", "a"), rq(2, "u1", "", 200, session("u1"), tok("a", "b")), rq(3, "u1", "", 0, tok("b", ""), lostTo("/login")),
		), "", true), reports.Fail, []string{"1 clients lost their session outside any provider fault", "127.0.10.1 abc.test"}},
		{"a loss inside a provider fault is a re-pin", inv, withFaults(custom(hist(
			login(1, "u1", "a"), rq(6, "u1", "", 0, tok("a", ""), lostTo("/login")),
		), "", true), crash("p1", 5, 10)), reports.Pass, nil},
		{"a backend that names nobody cannot be judged", inv, custom(hist(
			login(1, "u1", "a"), rq(2, "u1", "", 200, session("u1"), tok("a", "b")),
		), "header X-Nobody", true), reports.Skip, []string{"header X-Nobody"}},
	}
	runCases(t, cases)
}
