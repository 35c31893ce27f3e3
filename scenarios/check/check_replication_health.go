package check

import (
	"slices"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameReplicationHealth is the canonical name of the replication-health invariant.
const NameReplicationHealth = "replication-health"

func init() {
	register(Spec{
		Name: NameReplicationHealth, Rank: 110, Lab: true, Deployment: FromHistory,
		Summary:  "both replica threads run at the end, without error",
		Needs:    NeedsDatabase,
		Negative: []string{"neg-stopped-replication", "conflicting-writes"},
		New:      func(b Bounds) Invariant { return ReplicationHealth{Sides: b.ReplicaSides} },
	})
}

// ReplicationHealth checks that at the end both replica threads (IO and SQL)
// run without error on every master. With one-way replication only the
// replica must: the named Sides, or else any one side.
type ReplicationHealth struct {
	// Sides are the sides that must replicate; empty means every side, or
	// with one-way replication at least one.
	Sides []string
}

// Name implements Invariant.
func (ReplicationHealth) Name() string { return NameReplicationHealth }

// Check implements Invariant.
func (rh ReplicationHealth) Check(h *history.History) reports.Invariant {
	db := h.Final.DB
	if db == nil || len(db.Sides) == 0 {
		return skip("no final database state in the history")
	}
	var ev evidence
	healthy, checked := 0, 0
	anyOne := db.OneWay && len(rh.Sides) == 0
	var problems evidence // with anyOne, only shown when no side replicates
	for _, want := range rh.Sides {
		if !slices.ContainsFunc(db.Sides, func(s history.DBSide) bool { return s.Name == want }) {
			ev.addf("side %s is not in the final state", want)
		}
	}
	for i := range db.Sides {
		s := &db.Sides[i]
		if len(rh.Sides) > 0 && !slices.Contains(rh.Sides, s.Name) {
			continue
		}
		checked++
		target := &ev
		if anyOne {
			target = &problems
		}
		switch {
		case !s.Reachable:
			target.addf("side %s unreachable: %s", s.Name, quoteOrNone(s.Err))
		case !s.IORunning || !s.SQLRunning || s.LastIOErrno != 0 || s.LastSQLErrno != 0:
			target.addf("side %s: IO running %t (errno %d %s), SQL running %t (errno %d %s)", s.Name,
				s.IORunning, s.LastIOErrno, s.LastIOError, s.SQLRunning, s.LastSQLErrno, s.LastSQLError)
		default:
			healthy++
		}
	}
	if anyOne && healthy == 0 {
		ev = problems
		if ev.count() == 0 {
			ev.addf("no side replicates")
		}
	}
	if ev.count() > 0 {
		return fail(&ev, "replication is not running cleanly: %d of %d sides healthy", healthy, checked)
	}
	return pass("replica IO and SQL threads run without error on %d of %d sides", healthy, checked)
}
