package check

import (
	"slices"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// maxBuckets bounds the timeline's size whatever bucket a caller asks for.
const maxBuckets = 100_000

// Timeline summarises the load of h in buckets of the given width from the
// run's start: requests, errors (no response, 4xx or 5xx, a lost session),
// latency percentiles and which provider answered; plus every lag sample. A
// bucket ≤ 0 means one second. Probes are left out (a TLS 1.0 handshake
// that must be refused is no error of the setup): only the load's requests,
// those with a schedule, count — all of them in older histories, which
// have none.
func Timeline(h *history.History, bucket time.Duration) *reports.Timeline {
	if bucket <= 0 {
		bucket = time.Second
	}
	onlyLoad := slices.ContainsFunc(h.Requests, func(r history.Request) bool { return !r.Scheduled.IsZero() })
	skip := func(r *history.Request) bool { return onlyLoad && r.Scheduled.IsZero() }
	base := origin(h)
	var last time.Time
	for i := range h.Requests {
		if skip(&h.Requests[i]) {
			continue
		}
		if s := h.Requests[i].Start; s.After(last) {
			last = s
		}
	}
	if h.Meta.Ended.After(last) {
		last = h.Meta.Ended
	}
	n := 0
	if len(h.Requests) > 0 {
		n = int(last.Sub(base)/bucket) + 1
	}
	if n > maxBuckets {
		bucket = last.Sub(base)/maxBuckets + 1
		n = int(last.Sub(base)/bucket) + 1
	}
	tl := &reports.Timeline{Bucket: bucket, Points: make([]reports.Point, n)}
	// Latencies grouped by bucket: count, then place (one allocation).
	counts := make([]int, n+1)
	index := func(t time.Time) int {
		return min(max(int(t.Sub(base)/bucket), 0), n-1)
	}
	for i := range h.Requests {
		if !skip(&h.Requests[i]) {
			counts[index(h.Requests[i].Start)+1]++
		}
	}
	for b := 1; b <= n; b++ {
		counts[b] += counts[b-1]
	}
	lat := make([]time.Duration, len(h.Requests))
	fill := slices.Clone(counts[:n])
	for i := range h.Requests {
		r := &h.Requests[i]
		if skip(r) {
			continue
		}
		b := index(r.Start)
		p := &tl.Points[b]
		p.Requests++
		if !r.OK() {
			p.Errors++
		}
		if r.Provider != "" {
			if p.PerProvider == nil {
				p.PerProvider = map[string]int{}
			}
			p.PerProvider[r.Provider]++
		}
		lat[fill[b]] = r.Waited()
		fill[b]++
	}
	for b := range tl.Points {
		p := &tl.Points[b]
		p.Offset = time.Duration(b) * bucket
		ls := lat[counts[b]:counts[b+1]]
		if len(ls) == 0 {
			continue
		}
		slices.Sort(ls)
		p.P50, p.P90, p.P99 = quantile(ls, 0.50), quantile(ls, 0.90), quantile(ls, 0.99)
	}
	for _, s := range h.Final.Lag {
		tl.Lag = append(tl.Lag, reports.LagPoint{Offset: s.At.Sub(base), From: s.From, Lag: s.Lag, Failed: s.Err != ""})
	}
	return tl
}

// quantile is the nearest-rank quantile of sorted values.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// FaultWindows lists the faults of h for the timeline, in injection order.
func FaultWindows(h *history.History) []reports.FaultWindow {
	out := make([]reports.FaultWindow, 0, len(h.Faults))
	for _, f := range h.Faults {
		out = append(out, reports.FaultWindow{Name: f.Name, Target: f.Target, Injected: f.Injected, Recovered: f.Recovered})
	}
	slices.SortStableFunc(out, func(a, b reports.FaultWindow) int { return a.Injected.Compare(b.Injected) })
	return out
}
