package check

import (
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
		Summary:  "after a provider fault, requests succeed again within a bound, with a bounded number of failures; once every fault is recovered, every backend is back in service",
		Needs:    NeedsFault,
		Negative: []string{"neg-no-health-checks"},
		New: func(b Bounds) Invariant {
			return Failover{MaxRecovery: b.MaxRecovery, Budget: b.FailoverBudget, ConsecutiveOK: b.ConsecutiveOK}
		},
	})
}

// Failover checks the seed's full redundancy: after a provider fault, the
// balancer moves traffic to the survivor within MaxRecovery, failing at most
// Budget requests on the way. Recovery is the first success after the last
// failure before the next provider fault (or the end of the run); with
// ConsecutiveOK > 0, the start of the first run of that many successes.
// Failures are transport errors and 5xx: a 401 is a session loss, which
// session-continuity judges.
type Failover struct {
	MaxRecovery   time.Duration
	Budget        int
	ConsecutiveOK int
}

// Name implements Invariant.
func (Failover) Name() string { return NameFailover }

type failoverMeasure struct {
	fault     *history.Fault
	end       time.Time // the next provider fault, or zero for the end of the run
	lastFail  time.Time // start of the last failure in [Injected, end)
	recovered time.Time // start of the recovering success
	failures  int       // failures in [Injected, recovered]
	requests  int       // requests in [Injected, end)
	run       []int32   // ConsecutiveOK: indices in the window, for ordering
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
	for j := range ms[:len(ms)-1] {
		ms[j].end = ms[j+1].fault.Injected
	}
	in := func(m *failoverMeasure, t time.Time) bool {
		return !t.Before(m.fault.Injected) && (m.end.IsZero() || t.Before(m.end))
	}
	// Pass 1: the last failure of each window (or its ordered requests).
	user := func(r *history.Request) bool { return !probe(r) }
	for i := range h.Requests {
		r := &h.Requests[i]
		if !user(r) {
			continue
		}
		for _, m := range ms {
			if !in(m, r.Start) {
				continue
			}
			m.requests++
			if f.ConsecutiveOK > 0 {
				m.run = append(m.run, int32(i))
			} else if failed(r) && r.Start.After(m.lastFail) {
				m.lastFail = r.Start
			}
		}
	}
	// Pass 2: the recovery point and the failures before it.
	for _, m := range ms {
		if f.ConsecutiveOK > 0 {
			m.recoverByRun(h, f.ConsecutiveOK)
			continue
		}
		if m.lastFail.IsZero() {
			m.recovered = m.fault.Injected
			continue
		}
		for i := range h.Requests {
			r := &h.Requests[i]
			if !user(r) || !in(m, r.Start) {
				continue
			}
			if failed(r) {
				m.failures++
			} else if r.Start.After(m.lastFail) && (m.recovered.IsZero() || r.Start.Before(m.recovered)) {
				m.recovered = r.Start
			}
		}
	}
	base := origin(h)
	var ev evidence
	var parts []string
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
		parts = append(parts, fmt.Sprintf("%s: recovered in %.3fs, %d failed requests", name, took.Seconds(), m.failures))
		if took > f.MaxRecovery {
			ev.addf("%s: recovery took %.3fs > %s", name, took.Seconds(), f.MaxRecovery)
		}
		if m.failures > f.Budget {
			ev.addf("%s: %d failed requests > budget %d", name, m.failures, f.Budget)
		}
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
	if measured == 0 {
		return skip("no requests during the provider faults: %s", summary)
	}
	if ev.count() > 0 {
		return fail(&ev, "%s (bounds %s, %d failed requests)", summary, f.MaxRecovery, f.Budget)
	}
	return pass("%s", summary)
}

// recoverByRun sets the recovery point to the start of the first run of n
// successes in time order, counting the failures before it.
func (m *failoverMeasure) recoverByRun(h *history.History, n int) {
	slices.SortStableFunc(m.run, func(a, b int32) int { return h.Requests[a].Start.Compare(h.Requests[b].Start) })
	streak := 0
	var start time.Time
	fails := 0
	for _, i := range m.run {
		r := &h.Requests[i]
		if failed(r) {
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
