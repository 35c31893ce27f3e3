package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameFailover is the canonical name of the failover invariant.
const NameFailover = "failover"

func init() {
	register(Spec{
		Name: NameFailover, Rank: 60, Lab: true, Deployment: FromHistory,
		Summary:  "after a provider fault, no newly sent request is disrupted (failed, or stalled past 1 s) after a bound, with a bounded number of disrupted requests; once every fault is recovered, every backend is back in service",
		Needs:    NeedsFault,
		Negative: []string{"neg-no-health-checks"},
		New: func(b Bounds) Invariant {
			return Failover{MaxRecovery: b.MaxRecovery, Budget: b.FailoverBudget, ConsecutiveOK: b.ConsecutiveOK, Stall: b.MaxStall}
		},
	})
}

// Failover checks the seed's full redundancy as users felt it: after a
// provider fault, the balancer moves traffic to the survivor within
// MaxRecovery, disrupting at most Budget requests on the way. A request is
// disrupted when it failed (a transport error or a 5xx; a 401 is a session
// loss, which session-continuity judges) or when it took longer than Stall,
// even if it ended in 200: a user stuck for seconds could not work.
// Recovery is the first undisrupted request after the start of the last
// disrupted one before the next provider fault (or the end of the run); the
// RTO runs from the injection to it. With ConsecutiveOK > 0 it is the start
// of the first run of that many undisrupted requests.
type Failover struct {
	MaxRecovery   time.Duration
	Budget        int
	ConsecutiveOK int
	// Stall is the wait past which a request is disrupted; zero:
	// DefaultMaxWait.
	Stall time.Duration
}

// disrupted reports whether r failed or stalled past the bound.
func (f Failover) disrupted(r *history.Request) bool {
	stall := f.Stall
	if stall <= 0 {
		stall = DefaultMaxWait
	}
	return failed(r) || r.Waited() > stall
}

// Name implements Invariant.
func (Failover) Name() string { return NameFailover }

type failoverMeasure struct {
	fault     *history.Fault
	end       time.Time     // the next provider fault, or zero for the end of the run
	lastFail  time.Time     // start of the last failure in [Injected, end)
	recovered time.Time     // start of the recovering success
	failures  int           // disrupted requests in [Injected, recovered]
	stalls    int           // of which stalled rather than failed
	longest   time.Duration // the longest disrupted request: how long a user was stuck
	slowest   []*history.Request
	requests  int     // requests in [Injected, end)
	run       []int32 // ConsecutiveOK: indices in the window, for ordering
}

// Check implements Invariant.
func (f Failover) Check(h *history.History) reports.Invariant {
	var ms []*failoverMeasure
	for i := range h.Faults {
		if h.Faults[i].ProviderFault {
			ms = append(ms, &failoverMeasure{fault: &h.Faults[i]})
		}
	}
	if len(ms) == 0 {
		return skip("no provider faults in the history")
	}
	slices.SortStableFunc(ms, func(a, b *failoverMeasure) int { return a.fault.Injected.Compare(b.fault.Injected) })
	// A window ends at the next outage: the next provider fault, or a
	// balancer restart, whose refusals are the restart's and not this
	// fault's failover.
	for _, m := range ms {
		for i := range h.Faults {
			o := &h.Faults[i]
			if isOutage(o) && o.Injected.After(m.fault.Injected) && (m.end.IsZero() || o.Injected.Before(m.end)) {
				m.end = o.Injected
			}
		}
	}
	in := func(m *failoverMeasure, t time.Time) bool {
		return !t.Before(m.fault.Injected) && (m.end.IsZero() || t.Before(m.end))
	}
	// A disrupted request still in flight when an outage began may have
	// been disrupted by it: it is that outage's to answer for, not the one
	// before (seen: a request sent just before a provider crash made the
	// link cut before it look as if it never recovered). It counts from
	// the latest outage that began while it was in flight.
	var outages []time.Time
	for i := range h.Faults {
		if isOutage(&h.Faults[i]) {
			outages = append(outages, h.Faults[i].Injected)
		}
	}
	when := func(r *history.Request) time.Time {
		at := r.Start
		if !f.disrupted(r) {
			return at
		}
		end := r.Start.Add(r.Latency)
		for _, o := range outages {
			if o.After(at) && !o.After(end) {
				at = o
			}
		}
		return at
	}
	// Pass 1: the last failure of each window (or its ordered requests).
	user := func(r *history.Request) bool { return !probe(r) }
	for i := range h.Requests {
		r := &h.Requests[i]
		if !user(r) {
			continue
		}
		at := when(r)
		for _, m := range ms {
			if !in(m, at) {
				continue
			}
			m.requests++
			if f.ConsecutiveOK > 0 {
				m.run = append(m.run, int32(i))
			} else if f.disrupted(r) && at.After(m.lastFail) {
				m.lastFail = at
			}
		}
	}
	// Pass 2: the recovery point and the failures before it.
	for _, m := range ms {
		if f.ConsecutiveOK > 0 {
			m.recoverByRun(h, f.ConsecutiveOK, f.disrupted)
			continue
		}
		if m.lastFail.IsZero() {
			m.recovered = m.fault.Injected
			continue
		}
		for i := range h.Requests {
			r := &h.Requests[i]
			if !user(r) || !in(m, when(r)) {
				continue
			}
			if f.disrupted(r) {
				m.failures++
				m.longest = max(m.longest, r.Waited())
				if !failed(r) {
					m.stalls++
					m.slowest = append(m.slowest, r)
				}
			} else if r.Start.After(m.lastFail) && (m.recovered.IsZero() || r.Start.Before(m.recovered)) {
				m.recovered = r.Start
			}
		}
	}
	base := origin(h)
	var ev evidence
	var parts []string
	var stalls []*history.Request
	measured := 0
	for _, m := range ms {
		name := m.fault.Name
		if p := affected(m.fault); p != "" {
			name += " " + p
		}
		name += " at " + offset(base, m.fault.Injected)
		switch {
		case m.requests == 0:
			parts = append(parts, name+": no requests to measure")
			continue
		case m.recovered.IsZero():
			measured++
			parts = append(parts, name+": never recovered")
			ev.addf("%s: requests never succeeded again for good (%d failed of %d)", name, m.failures, m.requests)
			continue
		}
		measured++
		took := m.recovered.Sub(m.fault.Injected)
		part := fmt.Sprintf("%s: recovered in %.3fs, %d failed requests", name, took.Seconds(), m.failures-m.stalls)
		if m.stalls > 0 {
			part += fmt.Sprintf(" and %d stalled", m.stalls)
		}
		if m.longest > 0 {
			// Recovery dates new requests; a user already in one waited on.
			part += fmt.Sprintf(" (the longest of them took %.3fs)", m.longest.Seconds())
		}
		parts = append(parts, part)
		if took > f.MaxRecovery {
			ev.addf("%s: recovery took %.3fs > %s", name, took.Seconds(), f.MaxRecovery)
		}
		if m.failures > f.Budget {
			ev.addf("%s: %d disrupted requests > budget %d", name, m.failures, f.Budget)
		}
		stalls = append(stalls, m.slowest...)
	}
	if b := h.Final.Balancer; b != nil {
		if len(b.Down) > 0 {
			measured++
			parts = append(parts, "out of service at the end: "+strings.Join(b.Down, ", "))
			ev.addf("after every fault was recovered, the balancer still had %s out of service %.1fs later: a provider that never came back",
				strings.Join(b.Down, ", "), b.Waited.Seconds())
		} else {
			parts = append(parts, "every backend back in service at the end")
		}
	}
	summary := strings.Join(parts, "; ")
	// The users who waited longest: a stall is a disruption even when it
	// ends in 200.
	slices.SortStableFunc(stalls, func(a, b *history.Request) int { return cmp.Compare(b.Waited(), a.Waited()) })
	var stallLines []string
	for _, r := range stalls[:min(len(stalls), 3)] {
		stallLines = append(stallLines, fmt.Sprintf("stalled %s (%s): %s", r.Waited().Round(time.Millisecond), waitNote(base, r), witness(base, r)))
	}
	if measured == 0 {
		return skip("no requests during the provider faults: %s", summary)
	}
	if ev.count() > 0 {
		v := fail(&ev, "%s (bounds %s, %d disrupted requests)", summary, f.MaxRecovery, f.Budget)
		v.Evidence = append(v.Evidence, stallLines...)
		return v
	}
	v := pass("%s", summary)
	v.Evidence = stallLines
	return v
}

// recoverByRun sets the recovery point to the start of the first run of n
// successes in time order, counting the failures before it.
func (m *failoverMeasure) recoverByRun(h *history.History, n int, disrupted func(*history.Request) bool) {
	slices.SortStableFunc(m.run, func(a, b int32) int { return h.Requests[a].Start.Compare(h.Requests[b].Start) })
	streak := 0
	var start time.Time
	fails := 0
	for _, i := range m.run {
		r := &h.Requests[i]
		if disrupted(r) {
			fails++
			streak = 0
			continue
		}
		if streak == 0 {
			start = r.Start
		}
		streak++
		if streak >= n {
			m.recovered = start
			m.failures = fails
			return
		}
	}
	m.failures = fails
}
