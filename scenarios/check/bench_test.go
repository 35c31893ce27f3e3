package check

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// generate makes a healthy n-request history of a lab run: users pinned to
// a provider by source IP, rotating tokens, forwarded headers, a redirect
// and TLS probe now and then, and one provider crash the balancer handles
// (p1's users fail briefly, log in again on p2 and stay there).
func generate(n int) *history.History {
	const users = 1000
	h := &history.History{Meta: history.Meta{
		RunID: "bench", Started: t0, Mode: "offload", Providers: []string{"p1", "p2"},
		Domains: []history.Domain{{Name: "abc.test", PublicIP: "127.0.1.1", HTTPS: "https://abc.test:8443/", HTTP: "http://abc.test:8080/"}},
	}}
	crashAt, healAt := at(100), at(130)
	h.Faults = []history.Fault{{ID: 1, Name: "provider-crash", Target: "p1", Injected: crashAt, Recovered: healAt, ProviderFault: true}}
	type user struct {
		name, ip, provider, token string
		moved                     bool
	}
	us := make([]user, users)
	for i := range us {
		ip := "127.0.10." + strconv.Itoa(i%250+1)
		if i >= 250 {
			ip = "127.0." + strconv.Itoa(10+i/250) + "." + strconv.Itoa(i%250+1)
		}
		us[i] = user{name: "u" + strconv.Itoa(i), ip: ip, provider: []string{"p1", "p2"}[i%2]}
	}
	seen := []*history.Seen{}
	for i := range us {
		seen = append(seen, &history.Seen{RemoteAddr: "127.0.0.1:40000", XForwardedFor: us[i].ip, XForwardedProto: "https"})
	}
	step := 200 * time.Second / time.Duration(n) // the run lasts 200 s
	h.Requests = make([]history.Request, 0, n)
	for i := range n {
		u := &us[i%users]
		start := t0.Add(time.Duration(i) * step)
		r := history.Request{
			Seq: int64(i + 1), User: u.name, SourceIP: u.ip, Start: start, Latency: time.Duration(1+i%50) * time.Millisecond,
			Tenant: "abc.test", Method: "GET", URL: "https://abc.test:8443/inbox", Op: history.OpInbox, Status: 200,
			Provider: u.provider, SessionUser: u.name, TokenSent: u.token,
		}
		switch {
		case i%1000 == 999:
			r = history.Request{Seq: r.Seq, Start: start, Op: history.OpRedirect, Method: "GET", URL: "http://abc.test:8080/inbox?p=1",
				Status: 301, Location: "https://abc.test:8443/inbox?p=1", SourceIP: u.ip}
			h.Requests = append(h.Requests, r)
			continue
		case i%1000 == 998:
			r = history.Request{Seq: r.Seq, Start: start, Op: history.OpTLS, TLS: &history.TLSFacts{
				Address: "127.0.1.1:8443", ServerName: []string{"abc.test", ""}[i/1000%2], Version: "TLS 1.3",
				PeerNames: []string{"abc.test"}, Verified: true, Expected: "abc.test"}}
			h.Requests = append(h.Requests, r)
			continue
		case u.provider == "p1" && !start.Before(crashAt) && start.Before(crashAt.Add(40*time.Millisecond)):
			r.Status, r.Err, r.Provider, r.SessionUser = 0, "connection reset", "", ""
			h.Requests = append(h.Requests, r)
			continue
		case u.provider == "p1" && !start.Before(crashAt) && !u.moved:
			// The session lived on p1: the first answer of p2 is a 401, then a login.
			u.moved, u.provider = true, "p2"
			r.Status, r.Provider, r.SessionUser = 401, "p2", ""
			u.token = ""
			h.Requests = append(h.Requests, r)
			continue
		}
		if u.token == "" {
			r.Op, r.Method, r.URL = history.OpLogin, "POST", "https://abc.test:8443/login"
		}
		if i%10 == 0 {
			r.Op, r.Method, r.URL, r.Status, r.MessageID = history.OpSend, "POST", "https://abc.test:8443/messages", 201, "m"+strconv.Itoa(i)
		}
		u.token = "tok-" + strconv.Itoa(i) + "-" + u.name
		r.TokenReceived = u.token
		r.Seen = seen[i%users]
		h.Requests = append(h.Requests, r)
	}
	return h
}

func TestGeneratedHistoryPasses(t *testing.T) {
	h := generate(20_000)
	for _, v := range Run(h, HTTP(DefaultBounds())) {
		assert.Equal(t, reports.Pass, v.Verdict, "%s: %s %v", v.Name, v.Summary, v.Evidence)
	}
}

// BenchmarkHTTPInvariants judges a 1,000,000-request history with every
// HTTP invariant; the goal is ≤ 2 s per operation.
func BenchmarkHTTPInvariants(b *testing.B) {
	h := generate(1_000_000)
	invs := HTTP(DefaultBounds())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, v := range Run(h, invs) {
			require.Equal(b, reports.Pass, v.Verdict, "%s: %s", v.Name, v.Summary)
		}
	}
}

// BenchmarkInvariant measures each HTTP invariant alone on the same history.
func BenchmarkInvariant(b *testing.B) {
	h := generate(1_000_000)
	for _, inv := range HTTP(DefaultBounds()) {
		b.Run(inv.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				inv.Check(h)
			}
		})
	}
}

func BenchmarkTimeline(b *testing.B) {
	h := generate(1_000_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Timeline(h, time.Second)
	}
}
