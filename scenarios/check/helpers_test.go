package check

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// at is t0 plus seconds.
func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

type mod func(*history.Request)

func op(o history.Op) mod { return func(r *history.Request) { r.Op = o } }
func tok(sent, got string) mod {
	return func(r *history.Request) { r.TokenSent, r.TokenReceived = sent, got }
}
func session(u string) mod    { return func(r *history.Request) { r.SessionUser = u } }
func msg(id string) mod       { return func(r *history.Request) { r.Op, r.MessageID = history.OpSend, id } }
func errText(e string) mod    { return func(r *history.Request) { r.Err, r.Status = e, 0 } }
func seen(s history.Seen) mod { return func(r *history.Request) { r.Seen = &s } }
func tenant(t string) mod     { return func(r *history.Request) { r.Tenant = t } }
func onURL(u string) mod      { return func(r *history.Request) { r.URL = u } }
func location(status int, l string) mod {
	return func(r *history.Request) { r.Op, r.Status, r.Location, r.Provider = history.OpRedirect, status, l, "" }
}

// rq is a request of user u (source IP 127.0.10.<u's number>) at sec seconds
// answered by provider p with status.
func rq(sec float64, u, p string, status int, mods ...mod) history.Request {
	r := history.Request{
		User: u, SourceIP: "127.0.10." + strings.TrimLeft(strings.TrimPrefix(u, "u"), "0"),
		Start: at(sec), Latency: 5 * time.Millisecond, Tenant: "abc.test", Method: "GET",
		URL: "https://abc.test:8443/inbox", Op: history.OpInbox, Status: status, Provider: p,
	}
	for _, m := range mods {
		m(&r)
	}
	return r
}

// hist makes a history from requests, numbering them.
func hist(reqs ...history.Request) *history.History {
	h := &history.History{Meta: history.Meta{RunID: "t", Started: t0, Providers: []string{"p1", "p2"}}}
	for i := range reqs {
		reqs[i].Seq = int64(i + 1)
	}
	h.Requests = reqs
	return h
}

func withFaults(h *history.History, fs ...history.Fault) *history.History {
	h.Faults = append(h.Faults, fs...)
	return h
}

func crash(target string, from, to float64) history.Fault {
	f := history.Fault{Name: "provider-crash", Target: target, Injected: at(from), ProviderFault: true}
	if to > 0 {
		f.Recovered = at(to)
	}
	return f
}

type tcase struct {
	name    string
	inv     Invariant
	h       *history.History
	want    reports.Verdict
	mention []string // substrings of summary+evidence
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Run(tc.h, []Invariant{tc.inv})
			require.Len(t, got, 1)
			v := got[0]
			text := v.Summary + "\n" + strings.Join(v.Evidence, "\n")
			assert.Equal(t, tc.inv.Name(), v.Name)
			require.Equal(t, tc.want, v.Verdict, "%s", text)
			assert.NotEmpty(t, v.Summary)
			if tc.want == reports.Fail {
				assert.NotEmpty(t, v.Evidence, "a failure names its witness")
				assert.LessOrEqual(t, len(v.Evidence), MaxEvidence+1)
			}
			for _, m := range tc.mention {
				assert.Contains(t, text, m)
			}
		})
	}
}
