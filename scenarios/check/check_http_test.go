package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

func TestStickiness(t *testing.T) {
	inv := Stickiness{Grace: time.Second}
	cases := []tcase{
		{"one provider each", inv, hist(
			rq(1, "u1", "p1", 200), rq(1, "u2", "p2", 200), rq(2, "u1", "p1", 200), rq(2, "u2", "p2", 200),
		), reports.Pass, []string{"2 clients"}},
		{"failures and probes do not count as moves", inv, hist(
			rq(1, "u1", "p1", 200), rq(2, "u1", "p2", 503), rq(3, "u1", "", 0, errText("reset")),
			rq(4, "u1", "p2", 200, op(history.OpHealth)), rq(5, "u1", "p1", 200),
		), reports.Pass, nil},
		{"tenants are separate clients", inv, hist(
			rq(1, "u1", "p1", 200), rq(2, "u1", "p2", 200, tenant("def.test")), rq(3, "u1", "p1", 200),
		), reports.Pass, []string{"2 clients"}},
		{"round robin (negative control)", inv, hist(
			rq(1, "u1", "p1", 200), rq(2, "u1", "p2", 200), rq(3, "u1", "p1", 200),
		), reports.Fail, []string{"127.0.10.1 abc.test: p1 at +1.000s → p2 at +2.000s", "1 of 1 clients", "2 moves"}},
		{"re-pin after a fault of the old provider", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(5, "u1", "", 0, errText("eof")), rq(6, "u1", "p2", 200), rq(30, "u1", "p2", 200),
		), crash("p1", 4, 20)), reports.Pass, []string{"1 re-pins"}},
		{"flapping back after recovery", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(6, "u1", "p2", 200), rq(30, "u1", "p1", 200),
		), crash("p1", 4, 20)), reports.Fail, []string{"fail-back after p1 recovered: 127.0.10.1 abc.test returned from p2 at +30.000s"}},
		{"flapping back inside the grace is still flapping", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(6, "u1", "p2", 200), rq(20.5, "u1", "p1", 200),
		), crash("p1", 4, 20)), reports.Fail, []string{"fail-back after p1 recovered"}},
		{"a fault of the other provider does not excuse a move", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(6, "u1", "p2", 200),
		), crash("p2", 4, 20)), reports.Fail, nil},
		{"an idle client re-pinned by the fault may show up after it", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(22, "u1", "p2", 200),
		), crash("p1", 4, 20)), reports.Pass, []string{"1 re-pins"}},
		{"a move after the fault and its grace is a fail", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(21.5, "u1", "p1", 200), rq(22, "u1", "p2", 200),
		), crash("p1", 4, 20)), reports.Fail, []string{"p1 at +21.500s → p2 at +22.000s"}},
		{"a move before the fault is a fail", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(3, "u1", "p2", 200),
		), crash("p1", 4, 20)), reports.Fail, nil},
		{"the fault's Provider names the provider taken out (a database kill)", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(6, "u1", "p2", 200),
		), history.Fault{Name: "db-kill", Target: "db-a", Provider: "p1", Injected: at(4), Recovered: at(8), ProviderFault: true, DatabaseFault: true}),
			reports.Pass, []string{"1 re-pins"}},
		{"unrecovered fault stays open", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(100, "u1", "p2", 200),
		), crash("p1", 4, 0)), reports.Pass, nil},
		{"no provider header", inv, hist(rq(1, "u1", "", 200)), reports.Skip, []string{"X-Regify-Provider"}},
	}
	runCases(t, cases)
}

func TestStickinessEvidenceIsBounded(t *testing.T) {
	var reqs []history.Request
	for u := range 20 {
		for i := range 3 {
			reqs = append(reqs, rq(float64(i), fmt.Sprintf("u%d", u+1), fmt.Sprintf("p%d", i%2+1), 200))
		}
	}
	runCases(t, []tcase{{"bounded, one line per client", Stickiness{}, hist(reqs...), reports.Fail,
		[]string{"and 15 more", "20 of 20 clients", "40 moves"}}})
}

func TestSessionContinuity(t *testing.T) {
	inv := SessionContinuity{Grace: time.Second, MaxLossesPerFault: 1}
	login := func(sec float64, u, got string) history.Request {
		return rq(sec, u, "p1", 200, op(history.OpLogin), tok("", got))
	}
	cases := []tcase{
		{"newest token always accepted", inv, hist(
			login(1, "u1", "a"), rq(2, "u1", "p1", 200, tok("a", "b")), rq(3, "u1", "p1", 200, tok("b", "c")),
		), reports.Pass, []string{"2 requests presented a session token"}},
		{"logout on the newest token (negative control: round robin)", inv, hist(
			login(1, "u1", "a"), rq(2, "u1", "p2", 401, tok("a", "")),
		), reports.Fail, []string{"1 users were logged out outside a failover although", "u1", "sent a"}},
		{"401 on a stale token is not judged", inv, hist(
			login(1, "u1", "a"), rq(2, "u1", "p1", 200, tok("a", "b")), rq(3, "u1", "p1", 401, tok("a", "")),
		), reports.Pass, nil},
		{"tokens are per user", inv, hist(
			login(1, "u1", "a"), login(1, "u2", "x"), rq(2, "u2", "p1", 401, tok("a", "")),
		), reports.Pass, nil},
		{"loss during an allowed failover is counted", inv, withFaults(hist(
			login(1, "u1", "a"), rq(6, "u1", "p2", 401, tok("a", "")), login(7, "u1", "b"), rq(8, "u1", "p2", 200, tok("b", "c")),
		), crash("p1", 5, 10)), reports.Pass, []string{"1 sessions of 1 users lost during failovers"}},
		{"too many losses in one failover", inv, withFaults(hist(
			login(1, "u1", "a"), login(1, "u2", "x"),
			rq(6, "u1", "p2", 401, tok("a", "")), rq(6, "u2", "p2", 401, tok("x", "")),
		), crash("p1", 5, 10)), reports.Fail, []string{"2 sessions lost in fault provider-crash on p1", "bound 1", "more sessions lost in a failover than allowed; 2 sessions of 2 users"}},
		{"one user logged out twice in one failover", SessionContinuity{Grace: 2 * time.Second, MaxLossesPerFault: -1, MaxLossesPerUser: 1}, withFaults(hist(
			login(1, "u1", "a"), rq(6, "u1", "p2", 401, tok("a", "")), login(7, "u1", "b"), rq(8, "u1", "p1", 401, tok("b", "")),
		), crash("p1", 5, 10)), reports.Fail, []string{"u1 lost its session 2 times in fault provider-crash on p1 (bound 1 a user)"}},
		{"loss after the window", inv, withFaults(hist(
			login(1, "u1", "a"), rq(12, "u1", "p2", 401, tok("a", "")),
		), crash("p1", 5, 10)), reports.Fail, []string{"outside any failover"}},
		{"no tokens", inv, hist(rq(1, "u1", "p1", 200)), reports.Skip, []string{"token"}},
		{"non-rotating cookie (negative control)", inv, hist(
			login(1, "u1", "a"), rq(2, "u1", "p1", 200, session("u1"), tok("a", "")), rq(3, "u1", "p1", 200, session("u1"), tok("a", "a")),
		), reports.Fail, []string{"session cookie not rotated", "2 authenticated responses did not rotate the session cookie"}},
		{"rotation is judged on authenticated successes only", inv, hist(
			login(1, "u1", "a"), rq(2, "u1", "p1", 200, tok("a", "")), rq(3, "u1", "p1", 200, session("u1"), op(history.OpLogout), tok("a", "")),
			rq(4, "u1", "p1", 500, session("u1"), tok("a", "")), rq(5, "u1", "p1", 200, session("u1"), tok("a", "b")),
		), reports.Pass, nil},
		{"a replayed outdated token revokes the session: the next 401 is expected", inv, hist(
			login(1, "u1", "a"), rq(2, "u1", "p1", 200, session("u1"), tok("a", "b")),
			rq(3, "u1", "p1", 401, tok("a", "")), rq(4, "u1", "p1", 401, tok("b", "")),
			login(5, "u1", "c"), rq(6, "u1", "p1", 401, tok("c", "")),
		), reports.Fail, []string{"+6.000s", "1 users were logged out outside"}},
		{"... and without the later logout it passes", inv, hist(
			login(1, "u1", "a"), rq(2, "u1", "p1", 200, session("u1"), tok("a", "b")),
			rq(3, "u1", "p1", 401, tok("a", "")), rq(4, "u1", "p1", 401, tok("b", "")),
		), reports.Pass, nil},
	}
	runCases(t, cases)
}

func TestRedirect(t *testing.T) {
	inv := Redirect{}
	withDomains := func(h *history.History) *history.History {
		h.Meta.Domains = []history.Domain{
			{Name: "abc.test", HTTPS: "https://abc.test:8443/", HTTP: "http://abc.test:8080/"},
			{Name: "def.test", HTTPS: "https://def.test/", HTTP: "http://def.test/"},
		}
		return h
	}
	probe := func(u string, status int, loc string) history.Request {
		return rq(1, "", "", 0, onURL(u), location(status, loc))
	}
	follow := func(u string, status int, loc string) history.Request {
		r := rq(1, "", "p1", 0, onURL(u), location(status, loc))
		r.Op = history.OpRedirectFollow
		return r
	}
	cases := []tcase{
		{"all redirected", inv, withDomains(hist(
			probe("http://abc.test:8080/inbox?x=1", 301, "https://abc.test:8443/inbox?x=1"),
			probe("http://def.test/", 308, "https://def.test/"),
			probe("http://def.test", 302, "https://def.test:443/"),
			probe("http://ABC.test:8080/a%2Fb", 307, "https://abc.test:8443/a%2Fb"),
		)), reports.Pass, []string{"all 4"}},
		{"content over http (negative control: no redirect)", inv, withDomains(hist(
			probe("http://abc.test:8080/inbox", 200, ""),
		)), reports.Fail, []string{"content over plain http"}},
		{"wrong host", inv, withDomains(hist(probe("http://abc.test:8080/", 301, "https://def.test:8443/"))), reports.Fail, []string{"different host"}},
		{"wrong port", inv, withDomains(hist(probe("http://abc.test:8080/", 301, "https://abc.test/"))), reports.Fail, []string{"wrong https port (want 8443)"}},
		{"path dropped", inv, withDomains(hist(probe("http://abc.test:8080/inbox", 301, "https://abc.test:8443/"))), reports.Fail, []string{"different path"}},
		{"query dropped", inv, withDomains(hist(probe("http://abc.test:8080/a?x=1", 301, "https://abc.test:8443/a"))), reports.Fail, []string{"different query"}},
		{"loop to http", inv, withDomains(hist(probe("http://abc.test:8080/", 301, "http://abc.test:8080/"))), reports.Fail, []string{"loop"}},
		{"relative Location", inv, withDomains(hist(probe("http://abc.test:8080/", 301, "/x"))), reports.Fail, []string{"not absolute https"}},
		{"no answer", inv, withDomains(hist(rq(1, "", "", 0, onURL("http://abc.test:8080/"), op(history.OpRedirect), errText("refused")))), reports.Fail, []string{"no answer"}},
		{"404", inv, withDomains(hist(probe("http://abc.test:8080/", 404, ""))), reports.Fail, []string{"not a redirect"}},
		{"probe by public IP judged by its tenant", inv, withDomains(hist(
			rq(1, "", "", 0, onURL("http://127.0.1.1:8080/x"), tenant("abc.test"), location(301, "https://abc.test:8443/x")),
		)), reports.Pass, nil},
		{"unknown domain defaults to 443", inv, hist(probe("http://x.test/", 301, "https://x.test/")), reports.Pass, nil},
		{"no probes", inv, hist(rq(1, "u1", "p1", 200)), reports.Skip, []string{"no redirect probes"}},
		{"https target redirects back to http (negative control: loop)", inv, withDomains(hist(
			probe("http://abc.test:8080/a", 301, "https://abc.test:8443/a"),
			follow("https://abc.test:8443/a", 301, "http://abc.test:8080/a"),
		)), reports.Fail, []string{"https target redirects back to http (loop)"}},
		{"https target redirects to itself", inv, withDomains(hist(
			probe("http://abc.test:8080/a?x=1", 308, "https://abc.test:8443/a?x=1"),
			follow("https://abc.test:8443/a?x=1", 302, "/a?x=1"),
		)), reports.Fail, []string{"redirects to itself (loop)"}},
		{"https target answers or redirects elsewhere", inv, withDomains(hist(
			probe("http://abc.test:8080/a", 301, "https://abc.test:8443/a"),
			follow("https://abc.test:8443/a", 200, ""),
			probe("http://abc.test:8080/", 301, "https://abc.test:8443/"),
			follow("https://abc.test:8443/", 302, "https://abc.test:8443/login"),
		)), reports.Pass, []string{"all 2"}},
	}
	runCases(t, cases)
}

func tlsProbe(addr, sni, version string, verified bool, names ...string) history.Request {
	expected := sni
	if expected == "" {
		expected = "abc.test"
	}
	return history.Request{Op: history.OpTLS, Start: at(1), TLS: &history.TLSFacts{
		Address: addr, ServerName: sni, Version: version, Verified: verified, PeerNames: names, Expected: expected,
	}}
}

func TestTLS(t *testing.T) {
	inv := TLS{}
	domains := func(h *history.History) *history.History {
		h.Meta.Domains = []history.Domain{{Name: "abc.test", PublicIP: "127.0.1.1"}, {Name: "def.test", PublicIP: "127.0.1.2"}}
		return h
	}
	good := []history.Request{
		tlsProbe("127.0.1.1:8443", "abc.test", "TLS 1.3", true, "abc.test"),
		tlsProbe("127.0.1.1:8443", "", "TLS 1.2", true, "abc.test"),
		func() history.Request {
			r := tlsProbe("127.0.1.2:8443", "def.test", "TLS 1.3", true, "*.def.test", "def.test")
			return r
		}(),
		func() history.Request {
			r := tlsProbe("127.0.1.2:8443", "", "TLS 1.3", true, "def.test")
			r.TLS.Expected = "def.test"
			return r
		}(),
	}
	cases := []tcase{
		{"all names, with and without SNI", inv, domains(hist(good...)), reports.Pass, []string{"4 TLS probes of 2 public IPs"}},
		{"wrong certificate for a name (negative control)", inv, domains(hist(append(good[:3:3],
			func() history.Request {
				r := tlsProbe("127.0.1.2:8443", "", "TLS 1.3", true, "abc.test")
				r.TLS.Expected = "def.test"
				return r
			}())...)), reports.Fail, []string{"certificate for abc.test, want def.test"}},
		{"not verified", inv, hist(tlsProbe("127.0.1.1:8443", "abc.test", "TLS 1.3", false, "abc.test"),
			tlsProbe("127.0.1.1:8443", "", "TLS 1.3", true, "abc.test")), reports.Fail, []string{"not verified"}},
		{"TLS 1.1", inv, hist(tlsProbe("127.0.1.1:8443", "abc.test", "TLS 1.1", true, "abc.test"),
			tlsProbe("127.0.1.1:8443", "", "TLS 1.3", true, "abc.test")), reports.Fail, []string{`old protocol TLS 1.1`}},
		{"handshake error", inv, hist(func() history.Request {
			r := tlsProbe("127.0.1.1:8443", "abc.test", "", false)
			r.Err = "remote error: unrecognized name"
			return r
		}(), tlsProbe("127.0.1.1:8443", "", "TLS 1.3", true, "abc.test")), reports.Fail, []string{"handshake failed"}},
		{"a public IP never probed without SNI", inv, domains(hist(good[0], good[1], good[2])), reports.Fail,
			[]string{"public IP 127.0.1.2 was not probed without SNI"}},
		{"a public IP never probed at all", inv, domains(hist(good[0], good[1])), reports.Fail,
			[]string{"127.0.1.2 was not probed with SNI", "127.0.1.2 was not probed without SNI"}},
		{"wildcard does not cover two labels", inv, hist(tlsProbe("127.0.1.1:8443", "a.b.test", "TLS 1.3", true, "*.test"),
			tlsProbe("127.0.1.1:8443", "", "TLS 1.3", true, "abc.test")), reports.Fail, nil},
		{"no probes", inv, hist(rq(1, "u1", "p1", 200)), reports.Skip, []string{"no TLS probes"}},
	}
	runCases(t, cases)
}

func TestForwardedHeaders(t *testing.T) {
	inv := ForwardedHeaders{}
	ok := history.Seen{RemoteAddr: "127.0.2.9:4000", XForwardedFor: "127.0.10.1", XForwardedProto: "https"}
	passthrough := func(h *history.History) *history.History { h.Meta.Mode = "passthrough"; return h }
	cases := []tcase{
		{"offload: proto and client", inv, hist(
			rq(1, "u1", "p1", 200, seen(ok)),
			rq(2, "u1", "p1", 200, seen(history.Seen{XForwardedFor: "10.9.9.9, 127.0.10.1", XForwardedProto: "https"})),
			rq(3, "u1", "p1", 200, seen(history.Seen{Forwarded: `for=10.1.1.1, for="127.0.10.1:5555";proto=https`, XForwardedProto: "https"})),
			rq(4, "u1", "p1", 200, seen(history.Seen{XForwardedProto: "http"}), onURL("http://abc.test:8080/")),
		), reports.Pass, []string{"all 3 requests", "offload mode"}},
		{"missing X-Forwarded-Proto (negative control)", inv, hist(
			rq(1, "u1", "p1", 200, seen(history.Seen{XForwardedFor: "127.0.10.1"})),
		), reports.Fail, []string{"X-Forwarded-Proto (none), want https"}},
		{"client spoofable: first hop only", inv, hist(
			rq(1, "u1", "p1", 200, seen(history.Seen{XForwardedFor: "127.0.10.1, 127.0.0.1", XForwardedProto: "https"})),
		), reports.Fail, []string{"client 127.0.10.1 not the last hop"}},
		{"no client address", inv, hist(rq(1, "u1", "p1", 200, seen(history.Seen{XForwardedProto: "https", RemoteAddr: "127.0.10.1:3333"}))),
			reports.Fail, nil},
		{"passthrough with PROXY protocol", inv, passthrough(hist(
			rq(1, "u1", "p1", 200, seen(history.Seen{TLS: true, RemoteAddr: "127.0.10.1:3333"})),
			rq(1, "u1", "p1", 200, seen(history.Seen{TLS: true, RemoteAddr: "[::1]:1", Forwarded: "for=127.0.10.1"})),
		)), reports.Pass, []string{"passthrough mode"}},
		{"passthrough without TLS at the provider", inv, passthrough(hist(
			rq(1, "u1", "p1", 200, seen(history.Seen{TLS: false, RemoteAddr: "127.0.10.1:3333"})),
		)), reports.Fail, []string{"without TLS"}},
		{"passthrough without the client address", inv, passthrough(hist(
			rq(1, "u1", "p1", 200, seen(history.Seen{TLS: true, RemoteAddr: "127.0.1.1:3333"})),
		)), reports.Fail, []string{"not the last hop"}},
		{"no seen data", inv, hist(rq(1, "u1", "p1", 200)), reports.Skip, []string{"X-Regify-Seen"}},
	}
	runCases(t, cases)
}

func TestFailover(t *testing.T) {
	inv := Failover{MaxRecovery: 3 * time.Second, Budget: 2}
	cases := []tcase{
		{"quick failover", inv, withFaults(hist(
			rq(1, "u1", "p1", 200), rq(10.5, "u1", "", 0, errText("eof")), rq(11, "u1", "p1", 502),
			rq(12, "u1", "p2", 200), rq(13, "u1", "p2", 200), rq(14, "u2", "p2", 200),
		), crash("p1", 10, 30)), reports.Pass, []string{"provider-crash p1 at +10.000s: recovered in 2.000s, 2 failed requests"}},
		{"no failures at all", inv, withFaults(hist(rq(11, "u1", "p2", 200)), crash("p1", 10, 30)), reports.Pass, []string{"recovered in 0.000s"}},
		{"too slow (negative control: no health checks)", inv, withFaults(hist(
			rq(10.5, "u1", "", 0, errText("eof")), rq(15, "u1", "p2", 200),
		), crash("p1", 10, 30)), reports.Fail, []string{"recovery took 5.000s > 3s"}},
		{"over budget", inv, withFaults(hist(
			rq(10.1, "u1", "", 0, errText("eof")), rq(10.2, "u2", "", 0, errText("eof")), rq(10.3, "u3", "", 503),
			rq(11, "u1", "p2", 200),
		), crash("p1", 10, 30)), reports.Fail, []string{"3 disrupted requests > budget 2"}},
		{"late failure resets recovery", inv, withFaults(hist(
			rq(10.5, "u1", "", 0, errText("eof")), rq(11, "u1", "p2", 200), rq(20, "u1", "", 0, errText("eof")), rq(21, "u1", "p2", 200),
		), crash("p1", 10, 30)), reports.Fail, []string{"recovered in 11.000s"}},
		{"the next fault ends the window", inv, withFaults(hist(
			rq(10.5, "u1", "", 0, errText("eof")), rq(11, "u1", "p2", 200), rq(20.5, "u1", "", 0, errText("eof")), rq(21, "u1", "p1", 200),
		), crash("p1", 10, 15), crash("p2", 20, 25)), reports.Pass, []string{"p1 at +10.000s: recovered in 1.000s", "p2 at +20.000s: recovered in 1.000s"}},
		{"never recovered", inv, withFaults(hist(rq(11, "u1", "", 0, errText("eof"))), crash("p1", 10, 0)), reports.Fail, []string{"never"}},
		{"401s are not failover failures", inv, withFaults(hist(rq(11, "u1", "p2", 401), rq(12, "u1", "p2", 200)), crash("p1", 10, 30)), reports.Pass, nil},
		{"consecutive successes", Failover{MaxRecovery: 3 * time.Second, Budget: 5, ConsecutiveOK: 2}, withFaults(hist(
			rq(10.5, "u1", "", 0, errText("eof")), rq(11, "u1", "p2", 200), rq(12, "u1", "p2", 200), rq(20, "u1", "", 0, errText("eof")),
		), crash("p1", 10, 30)), reports.Pass, []string{"recovered in 1.000s, 1 failed"}},
		{"provider never back in service (lab stays degraded)", inv, withBalancer(withFaults(hist(
			rq(10.5, "u1", "", 0, errText("eof")), rq(11, "u1", "p2", 200),
		), crash("p1", 10, 15)), "p1-abc", "p1-def"), reports.Fail, []string{"still had p1-abc, p1-def out of service"}},
		{"every backend back at the end", inv, withBalancer(withFaults(hist(
			rq(10.5, "u1", "", 0, errText("eof")), rq(11, "u1", "p2", 200),
		), crash("p1", 10, 15))), reports.Pass, []string{"recovered in 1.000s", "every backend back in service at the end"}},
		{"no provider faults", inv, hist(rq(1, "u1", "p1", 200)), reports.Skip, []string{"no provider faults"}},
		{"no requests during the fault", inv, withFaults(hist(rq(1, "u1", "p1", 200)), crash("p1", 10, 30)), reports.Skip, []string{"no requests"}},
	}
	runCases(t, cases)
}

// withBalancer records the balancer's backends still down at the end.
func withBalancer(h *history.History, down ...string) *history.History {
	h.Final.Balancer = &history.BalancerState{Down: down, Waited: 15 * time.Second}
	return h
}

func TestCookieIsolation(t *testing.T) {
	inv := CookieIsolation{}
	cases := []tcase{
		{"own sessions", inv, hist(
			rq(1, "u1", "p1", 200, session("u1"), tok("", "a")), rq(1, "u2", "p1", 200, session("u2"), tok("", "b")),
			rq(2, "u1", "p1", 200, session("u1"), tok("a", "c")),
		), reports.Pass, nil},
		{"another user's session", inv, hist(rq(1, "u1", "p1", 200, session("u2"))), reports.Fail, []string{"answered with u2's session"}},
		{"one token for two users (negative control: shared cookie)", inv, hist(
			rq(1, "u1", "p1", 200, tok("", "same-token-123")), rq(2, "u2", "p1", 200, tok("", "same-token-123")),
		), reports.Fail, []string{"token same-tok… given to u1 at +1.000s and to u2"}},
		{"same token to the same user is not a leak", inv, hist(
			rq(1, "u1", "p1", 200, tok("", "a")), rq(2, "u1", "p1", 200, tok("a", "a")),
		), reports.Pass, nil},
		{"outdated token accepted (negative control: old tokens valid)", inv, hist(
			rq(1, "u1", "p1", 200, session("u1"), tok("", "a")), rq(2, "u1", "p1", 200, session("u1"), tok("a", "b")),
			rq(3, "u1", "p1", 200, session("u1"), tok("a", "c")),
		), reports.Fail, []string{"outdated token accepted (newest was b)", "+3.000s"}},
		{"outdated token refused", inv, hist(
			rq(1, "u1", "p1", 200, session("u1"), tok("", "a")), rq(2, "u1", "p1", 200, session("u1"), tok("a", "b")),
			rq(3, "u1", "p1", 401, tok("a", "")),
		), reports.Pass, nil},
		{"no session facts", inv, hist(rq(1, "u1", "p1", 200)), reports.Skip, nil},
	}
	runCases(t, cases)
}

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.10.1": "127.0.10.1", "127.0.10.1:80": "127.0.10.1", "[::1]:443": "::1", "[::1]": "::1", "::1": "::1", "": "",
		"abc.test:8443": "abc.test",
	} {
		assert.Equal(t, want, hostOnly(in), in)
	}
}

func TestCookieIsolationOneTokenForAllIsLinear(t *testing.T) {
	var reqs []history.Request
	for i := range 50_000 {
		reqs = append(reqs, rq(float64(i)/1000, fmt.Sprintf("u%d", i%100+1), "p1", 200, tok("", "constant")))
	}
	runCases(t, []tcase{{"constant token", CookieIsolation{}, hist(reqs...), reports.Fail,
		[]string{"token constant given to u1 at +0.000s and to u2", "and 49495 more"}}})
}

func TestRadixSort(t *testing.T) {
	in := []issued{{5, 0}, {1 << 40, 1}, {5, 2}, {0, 3}, {1<<63 + 7, 4}, {1 << 20, 5}}
	got := radixSort(slices.Clone(in))
	assert.True(t, slices.IsSortedFunc(got, func(a, b issued) int { return cmp.Compare(a.hash, b.hash) }), "%v", got)
	assert.Equal(t, []issued{{0, 3}, {5, 0}, {5, 2}, {1 << 20, 5}, {1 << 40, 1}, {1<<63 + 7, 4}}, got, "stable")
}

// TestFailoverCountsStalls: a request stuck past the stall bound is a
// disruption even when it ends in 200; the evidence names the slowest.
func TestFailoverCountsStalls(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	h := &history.History{Meta: history.Meta{Started: t0}}
	add := func(ip string, start, lat time.Duration, prov string) {
		h.Requests = append(h.Requests, history.Request{Seq: int64(len(h.Requests) + 1), User: "u-" + ip, SourceIP: ip, Tenant: "abc.test",
			Start: at(start), Latency: lat, Status: 200, Provider: prov, Op: history.OpInbox})
	}
	add("127.0.10.1", time.Second, 10*time.Millisecond, "p1")
	add("127.0.10.1", 2100*time.Millisecond, 2900*time.Millisecond, "p1") // stuck in the hang, then 200
	add("127.0.10.2", 2400*time.Millisecond, 2600*time.Millisecond, "p1")
	add("127.0.10.3", 2500*time.Millisecond, 10*time.Millisecond, "p2") // p2's user works on
	add("127.0.10.1", 5100*time.Millisecond, 10*time.Millisecond, "p1")
	h.Faults = []history.Fault{{ID: 1, Name: "provider-hang", Injected: at(2 * time.Second), Recovered: at(5 * time.Second), ProviderFault: true, Provider: "p1"}}

	v := Failover{MaxRecovery: 3 * time.Second, Budget: 10, Stall: time.Second}.Check(h)
	assert.Equal(t, reports.Pass, v.Verdict, v.Summary)
	assert.Contains(t, v.Summary, "recovered in 0.500s, 0 failed requests and 2 stalled")
	require.NotEmpty(t, v.Evidence)
	assert.Contains(t, v.Evidence[0], "stalled 2.9s (answered in 2.9s):")

	v = Failover{MaxRecovery: 3 * time.Second, Budget: 1, Stall: time.Second}.Check(h)
	assert.Equal(t, reports.Fail, v.Verdict)
	assert.Contains(t, strings.Join(v.Evidence, "\n"), "2 disrupted requests > budget 1")
}

// TestStickinessNamesFailback: a client re-pinned by a fault that returns
// to its old provider after the recovery is a fail-back: named, counted with
// the sessions it lost, failing under forbid and allowed under allow.
func TestStickinessNamesFailback(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	h := &history.History{Meta: history.Meta{Started: t0}}
	add := func(start time.Duration, prov string, status int) {
		h.Requests = append(h.Requests, history.Request{Seq: int64(len(h.Requests) + 1), User: "u1", SourceIP: "127.0.10.1", Tenant: "abc.test",
			Start: at(start), Latency: 5 * time.Millisecond, Status: status, Provider: prov, Op: history.OpInbox})
	}
	add(time.Second, "p1", 200)
	add(3*time.Second, "p2", 200) // re-pinned by the crash of p1
	add(9*time.Second, "p1", 401) // back on p1 after its recovery: logged out
	add(9100*time.Millisecond, "p1", 200)
	h.Faults = []history.Fault{{ID: 1, Name: "provider-crash", Injected: at(2 * time.Second), Recovered: at(5 * time.Second), ProviderFault: true, Provider: "p1"}}

	v := Stickiness{Grace: 2 * time.Second}.Check(h)
	assert.Equal(t, reports.Fail, v.Verdict, v.Summary)
	assert.Contains(t, v.Summary, "fail-back after recovery: 1 clients returned to their old provider, 1 sessions lost (failback: forbid)")
	require.NotEmpty(t, v.Evidence)
	assert.Contains(t, v.Evidence[0], "fail-back after p1 recovered: 127.0.10.1 abc.test returned from p2 at +9.100s and had to log in again")

	v = Stickiness{Grace: 2 * time.Second, Failback: FailbackAllow}.Check(h)
	assert.Equal(t, reports.Pass, v.Verdict, v.Summary)
	assert.Contains(t, v.Summary, "1 re-pins, all after a provider fault; fail-back after recovery: 1 clients returned")
}

// TestStickinessRepinStraddlingInjection: a request sent just before the
// fault and answered by the survivor after it began is a re-pin.
func TestStickinessRepinStraddlingInjection(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	h := &history.History{Meta: history.Meta{Started: t0}}
	for i, r := range []struct {
		start, lat time.Duration
		prov       string
	}{{1894 * time.Millisecond, 5 * time.Millisecond, "p1"}, {1943 * time.Millisecond, 20 * time.Millisecond, "p2"}} {
		h.Requests = append(h.Requests, history.Request{Seq: int64(i + 1), User: "u4", SourceIP: "127.0.10.4", Tenant: "def.test",
			Start: at(r.start), Latency: r.lat, Status: 200, Provider: r.prov, Op: history.OpInbox})
	}
	h.Faults = []history.Fault{{ID: 1, Name: "link-cut", Injected: at(1950 * time.Millisecond), Recovered: at(7 * time.Second), ProviderFault: true, Provider: "p1"}}
	v := Stickiness{Grace: 2 * time.Second}.Check(h)
	assert.Equal(t, reports.Pass, v.Verdict, v.Summary)
	assert.Contains(t, v.Summary, "1 re-pins, all after a provider fault")
}
