package check

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameResponsiveness is the canonical name of the responsiveness invariant.
const NameResponsiveness = "responsiveness"

// is faulted: a regify user clicking through the inbox notices a second.
const DefaultMaxWait = time.Second

func init() {
	register(Spec{
		Name: NameResponsiveness, Rank: 65, Lab: true, Deployment: FromHistory,
		Summary:  "outside provider-fault windows no user waits longer than 1 s for an answer (a stall is a disruption even when it ends in 200)",
		Negative: []string{"neg-stalling-provider"},
		New:      func(b Bounds) Invariant { return Responsiveness{Max: b.MaxStall, Grace: b.Grace} },
	})
}

// Responsiveness judges how long users waited. Failed requests are other
// invariants' business, but a request that took longer than Max — answered
// or not — is a user who could not work, whatever the status said. Inside
// a provider fault's window (plus Grace) stalls are the failover's to
// judge; everywhere else none is excused.
type Responsiveness struct {
	Max   time.Duration
	Grace time.Duration
}

// Name implements Invariant.
func (Responsiveness) Name() string { return NameResponsiveness }

// Check implements Invariant.
func (c Responsiveness) Check(h *history.History) reports.Invariant {
	max := c.Max
	if max <= 0 {
		max = DefaultMaxWait
	}
	ws := windows(h, c.Grace, isOutage)
	base := origin(h)
	var slow []*history.Request
	judged := 0
	for i := range h.Requests {
		r := &h.Requests[i]
		if probe(r) || overlapping(ws, r) >= 0 {
			continue
		}
		judged++
		if r.Waited() > max {
			slow = append(slow, r)
		}
	}
	if judged == 0 {
		return skip("no user request outside fault windows")
	}
	if len(slow) == 0 {
		return pass("%d requests outside fault windows, none waited longer than %s", judged, max)
	}
	// The slowest first: they are what a user felt.
	slices.SortStableFunc(slow, func(a, b *history.Request) int { return cmp.Compare(b.Waited(), a.Waited()) })
	var ev evidence
	for _, r := range slow {
		if ev.want() {
			ev.lines = append(ev.lines, fmt.Sprintf("waited %s (%s): %s", r.Waited().Round(time.Millisecond), waitNote(base, r), witness(base, r)))
		}
	}
	return fail(&ev, "%d of %d requests outside fault windows waited longer than %s (the slowest %s)",
		len(slow), judged, max, slow[0].Waited().Round(time.Millisecond))
}
