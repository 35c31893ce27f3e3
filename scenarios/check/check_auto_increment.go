package check

import (
	"fmt"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameAutoIncrement is the canonical name of the auto-increment invariant.
const NameAutoIncrement = "auto-increment"

func init() {
	register(Spec{
		Name: NameAutoIncrement, Rank: 100, Lab: true, Deployment: FromHistory,
		Summary:  "the masters' increment/offset cannot collide; no duplicate-key stop",
		Needs:    NeedsDatabase,
		Negative: []string{"neg-equal-auto-increment"},
		New:      func(b Bounds) Invariant { return AutoIncrement{} },
	})
}

// errDupKey is MariaDB's ER_DUP_ENTRY: a replicated insert collided with a
// row the replica already had.
const errDupKey = 1062

// AutoIncrement checks that the masters' auto_increment_increment and
// auto_increment_offset cannot produce the same key on two sides, and that
// no side's SQL thread stopped on a duplicate key.
type AutoIncrement struct{}

// Name implements Invariant.
func (AutoIncrement) Name() string { return NameAutoIncrement }

// Check implements Invariant.
func (AutoIncrement) Check(h *history.History) reports.Invariant {
	db := h.Final.DB
	if db == nil || len(db.Sides) == 0 {
		return skip("no final database state in the history")
	}
	var ev evidence
	var sides []*history.DBSide
	for i := range db.Sides {
		s := &db.Sides[i]
		if s.LastSQLErrno == errDupKey {
			ev.addf("side %s replication stopped on a duplicate key (1062): %s", s.Name, s.LastSQLError)
		}
		if s.Reachable {
			sides = append(sides, s)
		}
	}
	masters := len(db.Sides)
	if !db.OneWay {
		if len(sides) < masters && ev.count() == 0 {
			return skip("only %d of %d database sides were reachable to read their settings", len(sides), masters)
		}
		for _, s := range sides {
			switch {
			case s.AutoIncInc < 2 || s.AutoIncInc < masters:
				ev.addf("side %s auto_increment_increment=%d, want ≥ %d (one slot per master)", s.Name, s.AutoIncInc, max(2, masters))
			case s.AutoIncOff < 1 || s.AutoIncOff > s.AutoIncInc:
				ev.addf("side %s auto_increment_offset=%d outside 1..%d (the server ignores it)", s.Name, s.AutoIncOff, s.AutoIncInc)
			}
		}
		for i, a := range sides {
			for _, b := range sides[i+1:] {
				// a's keys are off_a + k·inc_a, b's off_b + m·inc_b; they meet
				// exactly when off_a ≡ off_b mod gcd(inc_a, inc_b).
				if g := gcd(a.AutoIncInc, b.AutoIncInc); g > 0 && (a.AutoIncOff-b.AutoIncOff)%g == 0 {
					ev.addf("sides %s (inc %d, off %d) and %s (inc %d, off %d) generate the same keys",
						a.Name, a.AutoIncInc, a.AutoIncOff, b.Name, b.AutoIncInc, b.AutoIncOff)
				}
			}
		}
	}
	if ev.count() > 0 {
		return fail(&ev, "auto-increment keys can collide between the masters")
	}
	settings := ""
	for _, s := range sides {
		settings += fmt.Sprintf(" %s=(%d,%d)", s.Name, s.AutoIncInc, s.AutoIncOff)
	}
	if db.OneWay {
		return pass("one-way replication: no duplicate-key stop;%s", settings)
	}
	return pass("increment/offset cannot collide:%s; no duplicate-key stop", settings)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	if a < 0 {
		return -a
	}
	return a
}
