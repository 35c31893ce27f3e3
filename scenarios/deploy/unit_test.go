package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"app:secret@tcp(10.10.10.1:3306)/regify", "app:***@tcp(10.10.10.1:3306)/regify"},
		{"app@tcp(10.10.10.1:3306)/regify?parseTime=true", "app@tcp(10.10.10.1:3306)/regify"},
		{"app:s3cr@t@unix(/run/mysqld.sock)/r", "app:***@unix(/run/mysqld.sock)/r"},
		{"app:secret@10.0.0.1/regify", "(unparsable DSN)"},
	}
	for _, tc := range tests {
		got := RedactDSN(tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.NotContains(t, got, "secret")
	}
}

func TestPlanTouchesNothingAndHidesSecrets(t *testing.T) {
	d, err := Load("testdata/good.yaml")
	require.NoError(t, err)
	d.Faults[0].Inject = "stop --password s3cret"
	steps := Plan(d)
	var text strings.Builder
	destructive := 0
	for _, s := range steps {
		text.WriteString(s.String() + "\n")
		if s.Destructive {
			destructive++
			assert.Equal(t, "fault", s.Phase)
		}
	}
	assert.Equal(t, 1, destructive)
	for _, secret := range []string{"s3cret", "hunter2"} {
		assert.NotContains(t, text.String(), secret)
	}
	assert.Contains(t, text.String(), "app:***@tcp(127.0.0.1:3306)/regify")
	assert.Contains(t, text.String(), "redirect def.test: no http URL given")
}

func TestErrorWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	w := newErrorWindow(StopCondition{MaxErrorRate: 0.5, Window: 2 * time.Second, MinRequests: 4})
	w.now = func() time.Time { return now }
	add := func(status int, err string) { w.Add(history.Request{User: "u1", Status: status, Err: err}) }
	add(0, "refused")
	add(0, "refused")
	add(0, "refused")
	_, breached := w.breach()
	assert.False(t, breached, "three requests are below min_requests")
	w.Add(history.Request{User: "probe", Status: 0, Err: "x"})
	_, breached = w.breach()
	assert.False(t, breached, "probes do not count")
	add(200, "")
	why, breached := w.breach()
	assert.True(t, breached)
	assert.Contains(t, why, "3 of 4 requests (75%) failed in the last 2s")
	now = now.Add(3 * time.Second)
	add(503, "")
	add(200, "")
	add(200, "")
	add(200, "")
	_, breached = w.breach()
	assert.False(t, breached, "old failures slid out of the window")
}

func TestAnnotateSpreadWarnsWhenAllOnOneProvider(t *testing.T) {
	h := &history.History{}
	for i, ip := range []string{"127.0.10.1", "127.0.10.2", "127.0.10.3"} {
		h.Requests = append(h.Requests, history.Request{Seq: int64(i + 1), User: "u", SourceIP: ip, Tenant: "abc.test", Provider: "p2", Status: 200})
	}
	sc := &reports.Scenario{Invariants: []reports.Invariant{{Name: check.NameStickiness, Verdict: reports.Pass, Summary: "ok"}}}
	annotateSpread(sc, h)
	assert.True(t, SpreadWarning(sc))
	assert.Equal(t, reports.Pass, sc.Invariants[0].Verdict, "a warning, not a failure")
	assert.Contains(t, sc.Invariants[0].Evidence[0], "all 3 client IPs landed on provider p2")

	h.Requests[2].Provider = "p1"
	sc = &reports.Scenario{Invariants: []reports.Invariant{{Name: check.NameStickiness, Verdict: reports.Pass, Summary: "ok"}}}
	annotateSpread(sc, h)
	assert.False(t, SpreadWarning(sc))
	assert.Equal(t, []string{"spread of 3 client IPs over providers: p1 1, p2 2"}, sc.Invariants[0].Evidence)
}

func TestAnnotateTLSExpiry(t *testing.T) {
	now := time.Unix(2_000_000_000, 0)
	sc := &reports.Scenario{Invariants: []reports.Invariant{{Name: check.NameTLS, Verdict: reports.Pass}}}
	annotateTLS(sc, []siteInfo{{Domain: "abc.test", NotAfter: now.Add(5 * 24 * time.Hour)}, {Domain: "def.test", NotAfter: now.Add(90 * 24 * time.Hour), HSTS: "max-age=1"}}, 14*24*time.Hour, now)
	inv := sc.Invariants[0]
	assert.Equal(t, reports.Fail, inv.Verdict)
	assert.Contains(t, inv.Summary, "1 certificates expire within tls.min_validity")
	assert.Contains(t, strings.Join(inv.Evidence, "\n"), "info: abc.test sends no HSTS header")
	assert.Contains(t, strings.Join(inv.Evidence, "\n"), "info: def.test sends HSTS")
}

func TestProviderSinkBackendHeader(t *testing.T) {
	rec := history.NewRecorder(history.Meta{})
	win := newErrorWindow(StopCondition{MaxErrorRate: 0.5, Window: time.Second, MinRequests: 1})
	providerSink{rec: rec, backend: true, extra: win}.Add(history.Request{User: "u1", Backend: "srv2", Status: 503})
	providerSink{rec: rec}.Add(history.Request{User: "u1", Backend: "srv2", Provider: "p1", Status: 200})
	h := rec.History()
	require.Len(t, h.Requests, 2)
	assert.Equal(t, "srv2", h.Requests[0].Provider, "X-Regify-Backend stands for the provider")
	assert.Equal(t, "p1", h.Requests[1].Provider)
	_, breached := win.breach()
	assert.True(t, breached, "the stop condition saw the request")
}
