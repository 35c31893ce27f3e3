package faults

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/regify-verify/regify-verify/history"
)

// effectHistory: clients 1 and 2 on p1, client 3 on p2 before a fault at
// +2s recovered at +5s; then whatever requests a case adds.
func effectHistory(extra ...history.Request) (*history.History, *history.Fault) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	h := &history.History{Meta: history.Meta{Started: t0, Ended: at(10 * time.Second)}}
	for i, c := range []struct{ ip, p string }{{"127.0.10.1", "p1"}, {"127.0.10.2", "p1"}, {"127.0.10.3", "p2"}} {
		h.Requests = append(h.Requests, history.Request{Seq: int64(i + 1), SourceIP: c.ip, Tenant: "abc.test", Provider: c.p,
			Start: at(time.Second), Latency: 10 * time.Millisecond, Status: 200, Op: history.OpInbox})
	}
	for _, r := range extra {
		r.Tenant, r.Op = "abc.test", history.OpInbox
		r.Start = t0.Add(r.Start.Sub(time.Time{}))
		h.Requests = append(h.Requests, r)
	}
	h.Faults = []history.Fault{{ID: 1, Name: "provider-hang", Injected: at(2 * time.Second), Recovered: at(5 * time.Second), ProviderFault: true, Provider: "p1"}}
	return h, &h.Faults[0]
}

// since makes a Start offset for effectHistory.
func since(d time.Duration) time.Time { return time.Time{}.Add(d) }

func TestProviderBit(t *testing.T) {
	cases := []struct {
		name  string
		reqs  []history.Request
		bit   bool
		words string
	}{
		{"a failed request of a client on p1", []history.Request{{SourceIP: "127.0.10.1", Start: since(3 * time.Second), Err: "timeout", Latency: 3 * time.Second}},
			true, "took effect: 1 of 2 clients on p1 disrupted or moved (1 requests failed"},
		{"a stall that ended in 200", []history.Request{{SourceIP: "127.0.10.2", Start: since(3 * time.Second), Status: 200, Provider: "p1", Latency: 2800 * time.Millisecond}},
			true, "1 stalled over 1s"},
		{"a client moved to p2", []history.Request{{SourceIP: "127.0.10.1", Start: since(3 * time.Second), Status: 200, Provider: "p2", Latency: 5 * time.Millisecond}},
			true, "1 answered elsewhere"},
		{"p1's clients answered by p1 in time: inert", []history.Request{
			{SourceIP: "127.0.10.1", Start: since(3 * time.Second), Status: 200, Provider: "p1", Latency: 5 * time.Millisecond},
			{SourceIP: "127.0.10.3", Start: since(3 * time.Second), Err: "refused"}, // p2's client: not p1's business
		}, false, "none of the 2 clients on p1 was disrupted or moved while it was in: their 1 requests in the window were answered by p1"},
		{"a disruption after the window and its grace does not count", []history.Request{{SourceIP: "127.0.10.1", Start: since(8 * time.Second), Err: "refused"}},
			false, "none of the 2 clients on p1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, f := effectHistory(tc.reqs...)
			why, bit := ProviderHang{Provider: "p1"}.Bit(h, f)
			assert.Equal(t, tc.bit, bit, why)
			assert.Contains(t, why, tc.words)
		})
	}
	h, f := effectHistory()
	why, bit := ProviderCrash{Provider: "p9"}.Bit(h, f)
	assert.False(t, bit)
	assert.Equal(t, "no client was on p9 when it was injected, so nothing could show it", why)
	why, bit = DBPause{Side: "b"}.Bit(h, f)
	assert.False(t, bit, "db-pause of side b is judged on p2's clients: %s", why)
}

func TestLagBit(t *testing.T) {
	h, f := effectHistory()
	f.Name, f.ProviderFault, f.DatabaseFault = "replication-delay", false, true
	sample := func(at time.Duration, lag time.Duration, err string) history.LagSample {
		return history.LagSample{At: h.Meta.Started.Add(at), From: "a", Lag: lag, Err: err}
	}
	cases := []struct {
		name string
		lag  []history.LagSample
		db   *history.DBState
		bit  bool
	}{
		{"lag reached the delay", []history.LagSample{sample(3*time.Second, 1200*time.Millisecond, "")}, nil, true},
		{"a heartbeat never arrived", []history.LagSample{sample(3*time.Second, 0, "not seen within 2s")}, nil, true},
		{"lag stayed low: inert", []history.LagSample{sample(3*time.Second, 3*time.Millisecond, ""), sample(9*time.Second, 3*time.Second, "")}, nil, false},
		{"nothing sampled", nil, nil, false},
		{"a replica thread stopped at the end", []history.LagSample{sample(3*time.Second, time.Millisecond, "")},
			&history.DBState{Sides: []history.DBSide{{Name: "b", Reachable: true, IORunning: true, SQLRunning: false}}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.Final = history.Final{Lag: tc.lag, DB: tc.db}
			why, bit := ReplicationDelay{Side: "b", Delay: 2 * time.Second}.Bit(h, f)
			assert.Equal(t, tc.bit, bit, why)
			assert.NotEmpty(t, why)
		})
	}
}

func TestProviderSlowBit(t *testing.T) {
	h, f := effectHistory(history.Request{SourceIP: "127.0.10.1", Start: since(3 * time.Second), Status: 200, Provider: "p1", Latency: 90 * time.Millisecond})
	why, bit := ProviderSlow{Provider: "p1", Latency: 80 * time.Millisecond}.Bit(h, f)
	assert.True(t, bit, why)
	why, bit = ProviderSlow{Provider: "p1", Latency: time.Second}.Bit(h, f)
	assert.False(t, bit, why)
	assert.Contains(t, why, "none of the 1 requests p1 answered inside the window took 800ms or more")
}

func TestHookWithoutProviderIsNotChecked(t *testing.T) {
	h, f := effectHistory()
	why, bit := (&Hook{Label: "stop-vm"}).Bit(h, f)
	assert.True(t, bit)
	assert.Contains(t, why, "not checked: the hook names no provider")
}

// TestLinkFaultBits: a slowing link fault bit when the requests through
// its wires got slower at the median inside the window; a breaking one on
// a provider's wires when its clients were disrupted or moved; a clearing
// cut or instant reset says it cannot be seen rather than failing.
func TestLinkFaultBits(t *testing.T) {
	ms := time.Millisecond
	answered := func(p string, lat time.Duration) history.Request {
		return history.Request{SourceIP: "127.0.10.1", Start: since(3 * time.Second), Status: 200, Provider: p, Latency: lat}
	}
	// sends marks every request of a case as a send.
	sends := func(h *history.History) {
		for i := range h.Requests {
			h.Requests[i].Op = history.OpSend
		}
	}
	cases := []struct {
		name  string
		fault Effect
		reqs  []history.Request
		edit  func(h *history.History)
		bit   bool
		words string
	}{
		{"latency on p1's wires: p1's answers slower", LinkLatency{Provider: "p1", Latency: 300 * ms},
			[]history.Request{answered("p1", 320*ms), answered("p1", 290*ms), answered("p1", 12*ms)}, nil,
			true, "took effect: requests p1 answered inside the window waited 290ms at the median (3), against 10ms before it (2): 280ms slower"},
		{"latency on p1's wires, p1 as fast as before: inert", LinkLatency{Provider: "p1", Latency: 300 * ms},
			[]history.Request{answered("p1", 20*ms), answered("p2", 900*ms)}, nil,
			false, "requests p1 answered inside the window waited 20ms at the median (1), against 10ms before it (2): not 150ms slower"},
		{"latency on p2's database wire", LinkLatency{Provider: "p2", Link: LinkDatabase, Latency: 100 * ms},
			[]history.Request{answered("p2", 250*ms)}, nil, true, "240ms slower"},
		{"latency on a clearing connection: sends slower", LinkLatency{Link: LinkClearing, Latency: 200 * ms},
			[]history.Request{answered("p1", 230*ms), answered("p2", 210*ms)}, sends, true, "took effect: sends inside the window waited 230ms"},
		{"no request through the wires inside the window", LinkBandwidth{Link: LinkClearing, Rate: 1}, nil, nil,
			false, "no sends inside the window, so nothing could show it"},
		{"bandwidth on p1's wires: p1's clients moved instead", LinkBandwidth{Provider: "p1", Rate: 1},
			[]history.Request{answered("p2", 5*ms)}, nil, true, "took effect: 1 of 2 clients on p1 disrupted or moved"},
		{"bandwidth on p1's wires: neither slower nor moved", LinkBandwidth{Provider: "p1", Rate: 1},
			[]history.Request{answered("p1", 11*ms)}, nil, false, "not 50ms slower; none of the 2 clients on p1 was disrupted or moved"},
		{"a burst of queued requests answered at once still waited", LinkLatency{Provider: "p1", Latency: 300 * ms},
			[]history.Request{answered("p1", 310*ms), answered("p1", ms), answered("p1", ms)}, func(h *history.History) {
				for i := len(h.Requests) - 2; i < len(h.Requests); i++ {
					h.Requests[i].Scheduled = h.Requests[i].Start.Add(-299 * ms)
				}
			}, true, "waited 300ms at the median"},
		{"slicing with a delay: slower", LinkSlice{Provider: "p1", Link: LinkDatabase, Size: 8, Delay: ms},
			[]history.Request{answered("p1", 90*ms)}, nil, true, "80ms slower"},
		{"slicing without a delay cannot be seen", LinkSlice{Provider: "p1", Size: 8}, nil, nil, true, "not checked: slicing without a delay"},
		{"a cut database wire: its provider's clients disrupted", LinkCut{Provider: "p1", Link: LinkDatabase},
			[]history.Request{{SourceIP: "127.0.10.2", Start: since(3 * time.Second), Status: 503, Provider: "p1"}}, nil, true, "1 requests failed"},
		{"a cut clearing connection cannot be seen", LinkCut{Link: LinkClearing}, nil, nil, true, "not checked: a cut clearing connection"},
		{"an instant reset of a clearing connection cannot be seen", LinkReset{Link: LinkClearing}, nil, nil, true, "not checked: a reset clearing connection"},
		{"a late reset of a clearing connection costs each send", LinkReset{Link: LinkClearing, After: 200 * ms},
			[]history.Request{answered("p1", 215*ms)}, sends, true, "205ms slower"},
		{"one way on a clearing connection: each send waits for the fail-over", LinkOneway{Link: LinkClearing, Direction: "request"},
			[]history.Request{answered("p2", 510*ms)}, sends, true, "500ms slower"},
		{"one way on the balancer's wires: moved", LinkOneway{Provider: "p1", Direction: "response"},
			[]history.Request{answered("p2", 5*ms)}, nil, true, "1 answered elsewhere"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, f := effectHistory(tc.reqs...)
			if tc.edit != nil {
				tc.edit(h)
			}
			why, bit := tc.fault.Bit(h, f)
			assert.Equal(t, tc.bit, bit, why)
			assert.Contains(t, why, tc.words)
		})
	}

	// On replication: the lag.
	h, f := effectHistory()
	h.Final.Lag = []history.LagSample{{At: h.Meta.Started.Add(3 * time.Second), From: "a", Lag: 1100 * ms}}
	why, bit := LinkLatency{Link: LinkReplication, Latency: 2 * time.Second}.Bit(h, f)
	assert.True(t, bit, why)
	why, bit = LinkOneway{Link: LinkReplication, Direction: "a-to-b"}.Bit(h, f)
	assert.True(t, bit, why)
	h.Final.Lag[0].Lag = 3 * ms
	why, bit = LinkCut{Link: LinkReplication}.Bit(h, f)
	assert.False(t, bit, why)
}

// TestLagBitCountsASampleThatWaitedIntoTheWindow: a heartbeat written just
// before the injection and never seen measured the fault; one seen before
// the injection did not.
func TestLagBitCountsASampleThatWaitedIntoTheWindow(t *testing.T) {
	h, f := effectHistory()
	h.Final.Lag = []history.LagSample{
		{At: f.Injected.Add(-300 * time.Millisecond), From: "a", Lag: 200 * time.Millisecond}, // seen 100ms before the injection
		{At: f.Injected.Add(3 * time.Second), From: "a", Lag: time.Millisecond},
	}
	why, bit := LinkOneway{Link: LinkReplication, Direction: "a-to-b"}.Bit(h, f)
	assert.False(t, bit, why)
	h.Final.Lag[0] = history.LagSample{At: f.Injected.Add(-20 * time.Microsecond), From: "a", Err: "heartbeat 16 from side a not seen on side b"}
	why, bit = LinkOneway{Link: LinkReplication, Direction: "a-to-b"}.Bit(h, f)
	assert.True(t, bit, why)
	assert.Contains(t, why, "1 of 2 heartbeats not seen in time")
}
