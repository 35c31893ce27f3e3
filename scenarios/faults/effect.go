package faults

import (
	"fmt"
	"slices"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// Effect is a fault that can tell from a run's history whether it took
// effect. A fault that did not is not survived: the engine marks the
// scenario incomplete (not judged, exit code 2), never passed. Bit returns
// a sentence saying what was seen, or what was missing.
type Effect interface {
	Bit(h *history.History, f *history.Fault) (string, bool)
}

// Bounds of what counts as an effect.
const (
	// effectGrace extends a fault's window: health checks and requests in
	// flight take a moment to notice a fault and its end.
	effectGrace = 2 * time.Second
	// stallBound is how long a request may take before it counts as
	// disrupted (a user notices a second).
	stallBound = time.Second
	// lagBound is the replication lag that shows a replication fault bit.
	lagBound = 500 * time.Millisecond
	// slowBound is the slow-down at the median that shows a throttling
	// fault bit (a bandwidth limit, slicing, a one-way clearing connection
	// that costs a fail-over): many times the lab's few milliseconds.
	slowBound = 50 * time.Millisecond
	// heartbeatSpan is how long a lag sample whose heartbeat was not seen
	// waited for it (the lab samples with a 2 s bound).
	heartbeatSpan = 2 * time.Second
)

// window is the span in which a fault's effect may show.
func window(h *history.History, f *history.Fault) (from, to time.Time) {
	to = h.Meta.Ended
	if !f.Recovered.IsZero() {
		to = f.Recovered.Add(effectGrace)
	}
	if to.IsZero() {
		to = time.Now()
	}
	return f.Injected, to
}

// userRequest reports whether r is a simulated user's request, not a probe.
func userRequest(r *history.Request) bool {
	return r.Op != history.OpRedirect && r.Op != history.OpRedirectFollow && r.Op != history.OpTLS && r.Op != history.OpHealth
}

// providerBit checks a fault that takes provider p out of service: the
// clients on p when it was injected must show it inside its window — a
// request (begun in it, or in flight when it began) failed, stalled past
// stallBound, or was answered by another provider.
func providerBit(h *history.History, f *history.Fault, p string) (string, bool) {
	type client struct{ ip, tenant string }
	on := map[client]string{}
	for i := range h.Requests {
		r := &h.Requests[i]
		if !userRequest(r) || r.Provider == "" || !r.Start.Before(f.Injected) {
			continue
		}
		on[client{r.SourceIP, r.Tenant}] = r.Provider
	}
	affected := 0
	for _, prov := range on {
		if prov == p {
			affected++
		}
	}
	if affected == 0 {
		return fmt.Sprintf("no client was on %s when it was injected, so nothing could show it", p), false
	}
	from, to := window(h, f)
	hit := map[client]bool{}
	var failed, stalled, moved, seen int
	for i := range h.Requests {
		r := &h.Requests[i]
		c := client{r.SourceIP, r.Tenant}
		// A request in flight at the injection counts too: a blackhole
		// strands the one a client had on the wire.
		if !userRequest(r) || on[c] != p || r.Start.After(to) || !r.Start.Add(r.Latency).After(from) {
			continue
		}
		seen++
		switch {
		case r.Err != "" || r.Status == 0 || r.Status >= 500:
			failed++
		case r.Waited() > stallBound:
			stalled++
		case r.Provider != "" && r.Provider != p:
			moved++
		default:
			continue
		}
		hit[c] = true
	}
	if len(hit) == 0 {
		return fmt.Sprintf("none of the %d clients on %s was disrupted or moved while it was in: their %d requests in the window were answered by %s within %s",
			affected, p, seen, p, stallBound), false
	}
	return fmt.Sprintf("took effect: %d of %d clients on %s disrupted or moved (%d requests failed, %d stalled over %s, %d answered elsewhere)",
		len(hit), affected, p, failed, stalled, stallBound, moved), true
}

// lagBit checks a replication fault: inside its window replication lag
// reached min (or the heartbeat was not seen at all), or at the end a
// replica thread had stopped.
func lagBit(h *history.History, f *history.Fault, min time.Duration) (string, bool) {
	from, to := window(h, f)
	var most time.Duration
	samples, missed := 0, 0
	for _, s := range h.Final.Lag {
		// A sample measures from At until its heartbeat was seen (Lag) or
		// given up on: one begun just before the injection that waited
		// into the window measured the fault too.
		span := s.Lag
		if s.Err != "" {
			span = heartbeatSpan
		}
		if s.At.Add(span).Before(from) || s.At.After(to) {
			continue
		}
		samples++
		if s.Err != "" {
			missed++
		}
		most = max(most, s.Lag)
	}
	if missed > 0 || most >= min {
		return fmt.Sprintf("took effect: replication lag reached %s inside the window (%d of %d heartbeats not seen in time)",
			most.Round(time.Millisecond), missed, samples), true
	}
	if db := h.Final.DB; db != nil {
		for _, s := range db.Sides {
			if s.Reachable && (!s.IORunning || !s.SQLRunning) {
				return fmt.Sprintf("took effect: a replica thread of side %s had stopped at the end", s.Name), true
			}
		}
	}
	if samples == 0 {
		return "no replication lag was sampled inside its window, so nothing could show it", false
	}
	return fmt.Sprintf("replication lag stayed at most %s inside the window (%d samples), below %s: replication was not disturbed",
		most.Round(time.Millisecond), samples, min), false
}

// slowBit checks a fault that slows requests down: the users of the
// requests sel picks (answered ones: a response arrived) that started
// inside the fault's window waited, at the median, at least min longer
// than for those it picked before the injection. Waited, not Latency: the
// requests a user had queued behind a slow one go out in a burst when the
// fault ends and are answered at once, but they waited all the same. The
// window ends at the recovery without grace: afterwards answers are fast
// again and would hide the slow-down.
func slowBit(h *history.History, f *history.Fault, what string, sel func(*history.Request) bool, min time.Duration) (string, bool) {
	to := f.Recovered
	if to.IsZero() {
		to = h.Meta.Ended
	}
	if to.IsZero() {
		to = time.Now()
	}
	var before, in []time.Duration
	for i := range h.Requests {
		r := &h.Requests[i]
		if !userRequest(r) || r.Status == 0 || !sel(r) {
			continue
		}
		switch {
		case r.Start.Before(f.Injected):
			before = append(before, r.Waited())
		case !r.Start.After(to):
			in = append(in, r.Waited())
		}
	}
	if len(in) == 0 {
		return fmt.Sprintf("no %s inside the window, so nothing could show it", what), false
	}
	base, got := median(before), median(in)
	was := fmt.Sprintf("%s before it (%d)", base.Round(time.Millisecond), len(before))
	if len(before) == 0 {
		was = "0 (none before it)"
	}
	if got-base >= min {
		return fmt.Sprintf("took effect: %s inside the window waited %s at the median (%d), against %s: %s slower",
			what, got.Round(time.Millisecond), len(in), was, (got - base).Round(time.Millisecond)), true
	}
	return fmt.Sprintf("%s inside the window waited %s at the median (%d), against %s: not %s slower",
		what, got.Round(time.Millisecond), len(in), was, min), false
}

// median of ds; 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
