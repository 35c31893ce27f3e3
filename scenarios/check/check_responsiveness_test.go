package check

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

func TestResponsiveness(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	req := func(seq int64, at, lat time.Duration, status int) history.Request {
		return history.Request{Seq: seq, User: "u1", SourceIP: "127.0.10.1", Start: t0.Add(at), Latency: lat, Status: status, Op: history.OpInbox}
	}
	fault := history.Fault{Name: "provider-hang", Injected: t0.Add(2 * time.Second), Recovered: t0.Add(5 * time.Second), ProviderFault: true, Provider: "p1"}
	cases := []struct {
		name    string
		reqs    []history.Request
		faults  []history.Fault
		verdict reports.Verdict
		summary string
	}{
		{"quick answers pass", []history.Request{req(1, 0, 20*time.Millisecond, 200), req(2, time.Second, 900*time.Millisecond, 200)}, nil,
			reports.Pass, "2 requests outside fault windows, none waited longer than 1s"},
		{"a stall that ends in 200 fails", []history.Request{req(1, 0, 20*time.Millisecond, 200), req(2, time.Second, 2800*time.Millisecond, 200)}, nil,
			reports.Fail, "1 of 2 requests outside fault windows waited longer than 1s (the slowest 2.8s)"},
		{"a stall inside a provider fault's window is the failover's", []history.Request{req(1, 0, 20*time.Millisecond, 200), req(2, 3*time.Second, 2800*time.Millisecond, 200)},
			[]history.Fault{fault}, reports.Pass, "1 requests outside fault windows, none waited longer than 1s"},
		{"a stall after the window and its grace fails", []history.Request{req(1, 8*time.Second, 1500*time.Millisecond, 0)},
			[]history.Fault{fault}, reports.Fail, "1 of 1 requests outside fault windows waited longer than 1s (the slowest 1.5s)"},
		{"only probes: skipped", []history.Request{{Seq: 1, Op: history.OpTLS, Start: t0, Latency: 5 * time.Second}}, nil,
			reports.Skip, "no user request outside fault windows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &history.History{Meta: history.Meta{Started: t0}, Requests: tc.reqs, Faults: tc.faults}
			v := Responsiveness{Max: time.Second, Grace: 2 * time.Second}.Check(h)
			assert.Equal(t, tc.verdict, v.Verdict)
			assert.Equal(t, tc.summary, v.Summary)
			if tc.verdict == reports.Fail {
				assert.NotEmpty(t, v.Evidence)
				assert.Contains(t, v.Evidence[0], "waited ")
			}
		})
	}
}

// TestResponsivenessRequestInFlightAtInjection: a request sent just before
// a provider fault and stuck in it is the failover's business, not a stall
// outside the window.
func TestResponsivenessRequestInFlightAtInjection(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	h := &history.History{Meta: history.Meta{Started: t0},
		Requests: []history.Request{{Seq: 1, User: "u1", Start: t0.Add(1995 * time.Millisecond), Latency: 3 * time.Second, Err: "timeout", Op: history.OpInbox}},
		Faults:   []history.Fault{{ID: 1, Name: "provider-hang", Injected: t0.Add(2 * time.Second), Recovered: t0.Add(7 * time.Second), ProviderFault: true, Provider: "p1"}}}
	v := Responsiveness{Max: time.Second, Grace: 2 * time.Second}.Check(h)
	assert.Equal(t, reports.Skip, v.Verdict, v.Summary)
}
