package check

import (
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameClearing is the canonical name of the clearing invariant.
const NameClearing = "clearing"

func init() {
	register(Spec{
		Name: NameClearing, Rank: 130, Lab: true, Deployment: LabOnly,
		Summary:  "every acknowledged message was cleared exactly once",
		Needs:    NeedsDatabase | NeedsWrites,
		Negative: []string{"neg-single-clearing"},
		New:      func(b Bounds) Invariant { return Clearing{} },
	})
}

// Clearing checks that every acknowledged message was cleared exactly once,
// summed over the redundant clearing services: a cut clearing link must not
// lose a transaction, and a retry must not clear it twice.
type Clearing struct{}

// Name implements Invariant.
func (Clearing) Name() string { return NameClearing }

// Check implements Invariant.
func (Clearing) Check(h *history.History) reports.Invariant {
	c := h.Final.Clearing
	if c == nil {
		return skip("no clearing state in the history")
	}
	acks := ackedSends(h)
	if len(acks) == 0 {
		return skip("no acknowledged sends in the history")
	}
	base := origin(h)
	var ev evidence
	missing, dups := 0, 0
	for _, r := range acks {
		switch n := c.Cleared[r.MessageID]; {
		case n == 0:
			missing++
			if ev.want() {
				ev.lines = append(ev.lines, "message "+r.MessageID+" never cleared; acknowledged "+witness(base, r))
			}
		case n > 1:
			dups++
			if ev.want() {
				ev.lines = append(ev.lines, "message "+r.MessageID+" cleared "+itoa(int64(n))+" times; acknowledged "+witness(base, r))
			}
		}
	}
	if ev.count() > 0 {
		return fail(&ev, "%d of %d acknowledged messages never cleared, %d cleared more than once", missing, len(acks), dups)
	}
	return pass("all %d acknowledged messages cleared exactly once", len(acks))
}
