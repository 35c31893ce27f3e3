package check

import (
	"slices"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameNoLostWrites is the canonical name of the no-lost-writes invariant.
const NameNoLostWrites = "no-lost-writes"

func init() {
	register(Spec{
		Name: NameNoLostWrites, Rank: 90, Lab: true, Deployment: FromSettings,
		Summary:  "every acknowledged message is on both masters, exactly once",
		Needs:    NeedsDatabase | NeedsWrites,
		Negative: []string{"neg-stopped-replication"},
		New:      func(b Bounds) Invariant { return NoLostWrites{Sides: b.WriteSides} },
	})
}

// NoLostWrites checks that every acknowledged message (a send answered 200 or
// 201) is on every database side exactly once: missing means a lost write,
// more than once a duplicate from a retried or replayed write.
type NoLostWrites struct {
	// Sides are the database sides to check; empty means every side. A
	// one-way setup names the side that survives the switch.
	Sides []string
}

// Name implements Invariant.
func (NoLostWrites) Name() string { return NameNoLostWrites }

// Check implements Invariant.
func (n NoLostWrites) Check(h *history.History) reports.Invariant {
	db := h.Final.DB
	if db == nil || len(db.Sides) == 0 {
		return skip("no final database state in the history")
	}
	acks := ackedSends(h)
	if len(acks) == 0 {
		return skip("no acknowledged sends in the history")
	}
	base := origin(h)
	var ev evidence
	var sides []*history.DBSide
	for _, want := range n.Sides {
		if !slices.ContainsFunc(db.Sides, func(s history.DBSide) bool { return s.Name == want }) {
			ev.addf("side %s is not in the final state", want)
		}
	}
	for i := range db.Sides {
		s := &db.Sides[i]
		if len(n.Sides) > 0 && !slices.Contains(n.Sides, s.Name) {
			continue
		}
		if !s.Reachable {
			ev.addf("side %s unreachable, its rows unknown: %s", s.Name, quoteOrNone(s.Err))
			continue
		}
		sides = append(sides, s)
	}
	missing, dups := 0, 0
	for _, r := range acks {
		for _, s := range sides {
			switch c := s.Messages[r.MessageID]; {
			case c == 0:
				missing++
				if ev.want() {
					ev.lines = append(ev.lines, "message "+r.MessageID+" missing on "+s.Name+"; acknowledged "+witness(base, r))
				}
			case c > 1:
				dups++
				if ev.want() {
					ev.lines = append(ev.lines, "message "+r.MessageID+" "+itoa(int64(c))+" times on "+s.Name+"; acknowledged "+witness(base, r))
				}
			}
		}
	}
	if ev.count() > 0 {
		return fail(&ev, "%d acknowledged messages missing and %d duplicated across %d sides", missing, dups, len(sides))
	}
	return pass("all %d acknowledged messages are on %s exactly once", len(acks), sideNames(sides))
}

func sideNames(sides []*history.DBSide) string {
	out := ""
	for i, s := range sides {
		if i > 0 {
			out += " and "
		}
		out += s.Name
	}
	if len(sides) > 1 {
		return "sides " + out
	}
	return "side " + out
}
