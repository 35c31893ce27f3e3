package check

import (
	"slices"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameReplicationLag is the canonical name of the replication-lag invariant.
const NameReplicationLag = "replication-lag"

func init() {
	register(Spec{
		Name: NameReplicationLag, Rank: 70, Lab: true, Deployment: FromSettings,
		Summary:  "heartbeat lag stays under a bound outside database fault windows",
		Needs:    NeedsDatabase,
		Negative: []string{"neg-replication-lag"},
		New:      func(b Bounds) Invariant { return ReplicationLag{Max: b.MaxLag, Grace: b.LagGrace} },
	})
}

// ReplicationLag checks that heartbeat lag between the masters stays under
// Max outside database fault windows (each extended by Grace); a heartbeat
// that never arrived outside a window fails too.
type ReplicationLag struct {
	Max   time.Duration
	Grace time.Duration
}

// Name implements Invariant.
func (ReplicationLag) Name() string { return NameReplicationLag }

// Check implements Invariant.
func (l ReplicationLag) Check(h *history.History) reports.Invariant {
	if len(h.Final.Lag) == 0 {
		return skip("no replication lag samples (heartbeat) in the history")
	}
	ws := windows(h, l.Grace, isDatabaseFault)
	base := origin(h)
	var ev evidence
	var worst time.Duration
	outside := 0
	for _, s := range h.Final.Lag {
		// A heartbeat written a moment before a fault and caught by it
		// (delayed or lost) felt the fault: its wait, up to the bound when
		// it was never seen, is what must touch a window.
		wait := max(s.Lag, l.Max)
		if slices.ContainsFunc(ws, func(w window) bool { return w.spans(s.At, s.At.Add(wait)) }) {
			continue
		}
		outside++
		switch {
		case s.Err != "":
			ev.addf("%s heartbeat from %s not seen: %s", offset(base, s.At), s.From, s.Err)
		case s.Lag > l.Max:
			ev.addf("%s lag from %s %s > %s", offset(base, s.At), s.From, s.Lag, l.Max)
		}
		worst = max(worst, s.Lag)
	}
	inside := len(h.Final.Lag) - outside
	if outside == 0 {
		return skip("all %d lag samples fall inside database fault windows", inside)
	}
	if ev.count() > 0 {
		return fail(&ev, "%d of %d lag samples outside fault windows exceeded %s or failed (max %s)", ev.count(), outside, l.Max, worst)
	}
	return pass("max lag %s ≤ %s over %d samples outside fault windows (%d inside ignored)", worst, l.Max, outside, inside)
}
