package scenarios

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestOnLanes: every call runs once; calls running at the same time never
// share a lane; heavy calls never exceed their bound and start first; a
// cancelled context starts nothing more.
func TestOnLanes(t *testing.T) {
	heavy := map[int]bool{3: true, 5: true, 6: true, 9: true}
	var mu sync.Mutex
	ran := map[int]int{}
	onLane := map[int]bool{}
	running, most := 0, 0
	var order []int
	n := onLanes(context.Background(), 12, lanePlan{parallel: 3, heavy: func(i int) bool { return heavy[i] }, heavyMax: 1}, func(i, lane int) {
		mu.Lock()
		ran[i]++
		order = append(order, i)
		assert.False(t, onLane[lane], "lane %d used twice at once", lane)
		assert.Less(t, lane, 3)
		onLane[lane] = true
		if heavy[i] {
			running++
			most = max(most, running)
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		onLane[lane] = false
		if heavy[i] {
			running--
		}
		mu.Unlock()
	})
	assert.Equal(t, 12, n)
	for i := range 12 {
		assert.Equal(t, 1, ran[i], "call %d", i)
	}
	assert.Equal(t, 1, most, "heavy calls at once")
	assert.Equal(t, 3, order[0], "the first heavy call starts first")

	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	n = onLanes(ctx, 10, lanePlan{parallel: 1}, func(i, lane int) {
		calls++
		if i == 1 {
			cancel()
		}
	})
	assert.Equal(t, 2, n)
	assert.Equal(t, 2, calls)
}

// TestOnLanesLongestFirst: among calls of one kind the costliest starts
// first; heavy calls still go before light ones.
func TestOnLanesLongestFirst(t *testing.T) {
	var order []int
	cost := []time.Duration{1, 5, 2, 9, 3}
	onLanes(context.Background(), len(cost), lanePlan{parallel: 1, heavy: func(i int) bool { return i == 0 }, heavyMax: 1,
		cost: func(i int) time.Duration { return cost[i] }}, func(i, lane int) { order = append(order, i) })
	assert.Equal(t, []int{0, 3, 1, 4, 2}, order)
}

// TestLanePlanCost: a scenario costs its load's duration as the engine
// runs it: its own, the default when it has none (a 6 s default once
// counted as 0 and ran last, after the 4 s negative controls), or the
// run's --duration for all.
func TestLanePlanCost(t *testing.T) {
	specs := []Spec{
		func() Scenario { return Scenario{Name: "own", Duration: 4 * time.Second} },
		func() Scenario { return Scenario{Name: "default"} },
		func() Scenario { return Scenario{Name: "db", Duration: 11 * time.Second, NeedsDatabase: true} },
	}
	costs := func(p lanePlan) []time.Duration {
		return []time.Duration{p.cost(0), p.cost(1), p.cost(2)}
	}
	assert.Equal(t, []time.Duration{4 * time.Second, DefaultDuration, 11 * time.Second}, costs(newLanePlan(specs, 3, 0, false, 0)))
	assert.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}, costs(newLanePlan(specs, 3, 0, false, 2*time.Second)))
	p := newLanePlan(specs, 3, 0, false, 0)
	assert.Equal(t, []bool{false, false, true}, []bool{p.heavy(0), p.heavy(1), p.heavy(2)})
}

// TestOnLanesSolo: at most one solo call runs at a time, heavy or not;
// solo calls start first (the costliest first), then heavy, then light
// ones; heavy calls still respect their bound.
func TestOnLanesSolo(t *testing.T) {
	// 0-2 are solo (0 and 1 heavy), 3-4 heavy, 5-8 light.
	cost := []time.Duration{30, 11, 9, 11, 10, 6, 4, 4, 3}
	solo := func(i int) bool { return i <= 2 }
	heavy := func(i int) bool { return i <= 1 || i == 3 || i == 4 }
	var mu sync.Mutex
	running := map[int]bool{}
	soloAtOnce, heavyAtOnce := 0, 0
	var order []int
	onLanes(context.Background(), len(cost), lanePlan{parallel: 3, heavy: heavy, heavyMax: 2, solo: solo,
		cost: func(i int) time.Duration { return cost[i] }}, func(i, lane int) {
		mu.Lock()
		order = append(order, i)
		running[i] = true
		ns, nh := 0, 0
		for j := range running {
			if solo(j) {
				ns++
			}
			if heavy(j) {
				nh++
			}
		}
		soloAtOnce, heavyAtOnce = max(soloAtOnce, ns), max(heavyAtOnce, nh)
		mu.Unlock()
		time.Sleep(cost[i] * time.Millisecond)
		mu.Lock()
		delete(running, i)
		mu.Unlock()
	})
	assert.Equal(t, 1, soloAtOnce, "solo calls at once")
	assert.Equal(t, 2, heavyAtOnce, "heavy calls at once")
	assert.Equal(t, []int{0, 3, 5}, order[:3], "the costliest solo call first, then a heavy one up to the bound, then the costliest light one")
}
