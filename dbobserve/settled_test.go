package dbobserve

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSettledSince: a wait for convergence gives up on a pair settled
// apart — both masters applied each other's writes, nothing new written,
// the checksums unchanged and different — only once that held for
// SettledFor; a pair still applying, still written to, or equal never.
func TestSettledSince(t *testing.T) {
	equal := &[2]Checksums{{"messages": 1, "sessions": 2}, {"messages": 1, "sessions": 2}}
	apart := &[2]Checksums{{"messages": 1, "sessions": 2}, {"messages": 7, "sessions": 2}}
	other := &[2]Checksums{{"messages": 3, "sessions": 2}, {"messages": 7, "sessions": 2}}
	type round struct {
		applied bool
		pos     string
		sums    *[2]Checksums
	}
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name   string
		rounds []round // SettledFor/2 apart
		want   bool
	}{
		{name: "apart and still: after SettledFor", want: true,
			rounds: []round{{true, "1-1-5/2-2-3", apart}, {true, "1-1-5/2-2-3", apart}, {true, "1-1-5/2-2-3", apart}}},
		{name: "apart for less than SettledFor: not yet",
			rounds: []round{{true, "1-1-5/2-2-3", apart}, {true, "1-1-5/2-2-3", apart}}},
		{name: "equal: never",
			rounds: []round{{true, "1-1-5/2-2-3", equal}, {true, "1-1-5/2-2-3", equal}, {true, "1-1-5/2-2-3", equal}}},
		{name: "still applying: never",
			rounds: []round{{false, "1-1-5/2-2-3", apart}, {false, "1-1-5/2-2-3", apart}, {false, "1-1-5/2-2-3", apart}}},
		{name: "checksums not read on both sides: never",
			rounds: []round{{true, "1-1-5/2-2-3", nil}, {true, "1-1-5/2-2-3", nil}, {true, "1-1-5/2-2-3", nil}}},
		{name: "something still writes: the clock restarts",
			rounds: []round{{true, "1-1-5/2-2-3", apart}, {true, "1-1-6/2-2-3", apart}, {true, "1-1-7/2-2-3", apart}, {true, "1-1-7/2-2-3", apart}}},
		{name: "the tables still change: the clock restarts",
			rounds: []round{{true, "1-1-5/2-2-3", apart}, {true, "1-1-5/2-2-3", other}, {true, "1-1-5/2-2-3", apart}, {true, "1-1-5/2-2-3", other}}},
		{name: "applying in between: the clock restarts",
			rounds: []round{{true, "1-1-5/2-2-3", apart}, {false, "1-1-5/2-2-3", apart}, {true, "1-1-5/2-2-3", apart}, {true, "1-1-5/2-2-3", apart}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s settledSince
			got := ""
			for i, r := range tc.rounds {
				if got = s.check(r.applied, r.pos, r.sums, t0.Add(time.Duration(i)*SettledFor/2)); got != "" {
					break
				}
			}
			if !tc.want {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, "applied all of each other's writes")
			assert.Contains(t, got, "1s")
		})
	}
}
