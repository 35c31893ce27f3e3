package check

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

func TestTimeline(t *testing.T) {
	var reqs []history.Request
	for i := range 100 { // bucket 0: latencies 1..100 ms, all from p1
		r := rq(0.5, "u1", "p1", 200)
		r.Latency = time.Duration(i+1) * time.Millisecond
		reqs = append(reqs, r)
	}
	reqs = append(reqs, rq(2.1, "u2", "p2", 503), rq(2.2, "u2", "", 0, errText("eof")), rq(2.3, "u2", "p2", 200))
	h := hist(reqs...)
	h.Meta.Ended = at(3.5)
	h.Final.Lag = []history.LagSample{{At: at(1), From: "a", Lag: time.Millisecond}, {At: at(2), From: "b", Err: "timeout"}}

	tl := Timeline(h, time.Second)
	require.Len(t, tl.Points, 4, "0 s to the end at 3.5 s")
	assert.Equal(t, time.Second, tl.Bucket)
	p := tl.Points[0]
	assert.Equal(t, 100, p.Requests)
	assert.Zero(t, p.Errors)
	assert.Equal(t, 50*time.Millisecond, p.P50)
	assert.Equal(t, 90*time.Millisecond, p.P90)
	assert.Equal(t, 99*time.Millisecond, p.P99)
	assert.Equal(t, map[string]int{"p1": 100}, p.PerProvider)
	assert.Equal(t, reports.Point{Offset: time.Second}, tl.Points[1], "an empty bucket")
	assert.Equal(t, 3, tl.Points[2].Requests)
	assert.Equal(t, 2, tl.Points[2].Errors)
	assert.Equal(t, map[string]int{"p2": 2}, tl.Points[2].PerProvider)
	assert.Equal(t, 2*time.Second, tl.Points[2].Offset)
	assert.Equal(t, []reports.LagPoint{{Offset: time.Second, From: "a", Lag: time.Millisecond}, {Offset: 2 * time.Second, From: "b", Failed: true}}, tl.Lag)
}

func TestTimelineEdges(t *testing.T) {
	assert.Empty(t, Timeline(&history.History{}, 0).Points)
	// A request before the start lands in the first bucket; a huge span is capped.
	h := hist(rq(-1, "u1", "p1", 200), rq(1e6, "u1", "p1", 200))
	tl := Timeline(h, time.Millisecond)
	assert.LessOrEqual(t, len(tl.Points), maxBuckets)
	assert.Equal(t, 1, tl.Points[0].Requests)
	assert.Equal(t, 1, tl.Points[len(tl.Points)-1].Requests)
}

func TestFaultWindows(t *testing.T) {
	h := withFaults(hist(), crash("p2", 20, 0), crash("p1", 10, 15))
	assert.Equal(t, []reports.FaultWindow{
		{Name: "provider-crash", Target: "p1", Injected: at(10), Recovered: at(15)},
		{Name: "provider-crash", Target: "p2", Injected: at(20)},
	}, FaultWindows(h))
}

// TestTimelineChartsTheLoad: when the load's requests carry their schedule,
// probes (a refused TLS 1.0 handshake, a redirect followed without a
// session) are not counted as traffic or errors of the setup.
func TestTimelineChartsTheLoad(t *testing.T) {
	load := rq(0.5, "u1", "p1", 200)
	load.Scheduled = load.Start
	tlsProbe := rq(0.1, "probe", "", 0, op(history.OpTLS), errText("protocol version not supported"))
	follow := rq(0.2, "probe", "p1", 401, op(history.OpRedirectFollow))
	h := hist(tlsProbe, follow, load)
	h.Meta.Ended = at(0.9)
	tl := Timeline(h, time.Second)
	require.Len(t, tl.Points, 1)
	assert.Equal(t, 1, tl.Points[0].Requests, "only the load's request")
	assert.Zero(t, tl.Points[0].Errors, "the probes' expected refusals are no errors")

	load.Scheduled = time.Time{} // an older history: no schedules, everything counts
	tl = Timeline(hist(tlsProbe, follow, load), time.Second)
	assert.Equal(t, 3, tl.Points[0].Requests)
}
