package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameReplicationConvergence is the canonical name of the replication-convergence invariant.
const NameReplicationConvergence = "replication-convergence"

func init() {
	register(Spec{
		Name: NameReplicationConvergence, Rank: 80, Lab: true, Deployment: FromHistory,
		Summary:  "after the last fault both masters hold the same rows (checksums); when they do not, the evidence names the first rows that differ",
		Needs:    NeedsDatabase,
		Negative: []string{"conflicting-writes", "neg-silent-divergence"},
		New:      func(b Bounds) Invariant { return ReplicationConvergence{MaxWait: b.MaxConvergeWait} },
	})
}

// ReplicationConvergence checks that after the last fault healed both
// masters hold the same rows: equal CHECKSUM TABLE per table, reached within
// MaxWait. Slave status alone misses a conflicting update applied crosswise;
// checksums do not.
type ReplicationConvergence struct {
	MaxWait time.Duration
}

// Name implements Invariant.
func (ReplicationConvergence) Name() string { return NameReplicationConvergence }

// Check implements Invariant.
func (c ReplicationConvergence) Check(h *history.History) reports.Invariant {
	db := h.Final.DB
	if db == nil || len(db.Sides) == 0 {
		return skip("no final database state in the history")
	}
	var ev evidence
	var withSums []*history.DBSide
	for i := range db.Sides {
		s := &db.Sides[i]
		switch {
		case !s.Reachable:
			ev.addf("side %s unreachable: %s", s.Name, quoteOrNone(s.Err))
		case len(s.Checksums) > 0:
			withSums = append(withSums, s)
		}
	}
	if len(withSums) < 2 && ev.count() == 0 {
		return skip("fewer than two database sides reported table checksums")
	}
	switch {
	case !db.Converged && db.WaitEnded != "":
		ev.addf("the sides did not converge; the harness stopped waiting after %s: %s", db.ConvergeWait.Round(time.Millisecond), db.WaitEnded)
	case !db.Converged:
		ev.addf("the sides did not converge within the %s the harness waited", db.ConvergeWait)
	case c.MaxWait > 0 && db.ConvergeWait > c.MaxWait:
		ev.addf("converging took %s > %s", db.ConvergeWait, c.MaxWait)
	}
	tables := 0
	if len(withSums) >= 2 {
		ref := withSums[0]
		names := tableNames(withSums)
		tables = len(names)
		for _, t := range names {
			for _, s := range withSums[1:] {
				a, okA := ref.Checksums[t]
				b, okB := s.Checksums[t]
				if okA != okB || a != b {
					ev.addf("table %s: %s=%s, %s=%s", t, ref.Name, sum(a, okA), s.Name, sum(b, okB))
				}
			}
		}
	}
	for _, d := range db.RowDiffs {
		ev.addf("%s", rowWitness(d))
	}
	if db.RowDiffErr != "" {
		ev.addf("rows could not be compared: %s", db.RowDiffErr)
	}
	if ev.count() > 0 {
		return fail(&ev, "the masters diverged: %d differences (waited %s)", ev.count(), db.ConvergeWait)
	}
	return pass("%d tables equal on %d sides after %s", tables, len(withSums), db.ConvergeWait)
}

func tableNames(sides []*history.DBSide) []string {
	var names []string
	for _, s := range sides {
		for t := range s.Checksums {
			if !slices.Contains(names, t) {
				names = append(names, t)
			}
		}
	}
	slices.Sort(names)
	return names
}

func sum(v int64, ok bool) string {
	if !ok {
		return "missing"
	}
	return itoa(v)
}

// rowWitness renders one diverged row: its key and what each side holds.
func rowWitness(d history.RowDiff) string {
	if d.Missing != "" {
		return fmt.Sprintf("%s row %s: missing on %s", d.Table, d.Key, d.Missing)
	}
	parts := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		parts[i] = fmt.Sprintf("%s a=%s b=%s", c.Name, c.A, c.B)
	}
	return fmt.Sprintf("%s row %s: %s", d.Table, d.Key, strings.Join(parts, "; "))
}
