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

// TestOnLanesAlone: a heavy call that runs alone starts first when it is
// the longest, no other heavy call runs beside it (the light ones do), and
// the other heavy calls share their slots once it has ended.
func TestOnLanesAlone(t *testing.T) {
	// 0 runs alone and is the longest; 1-3 are heavy, 4-7 light.
	cost := []time.Duration{30, 11, 11, 10, 6, 4, 4, 3}
	heavy := func(i int) bool { return i <= 3 }
	var mu sync.Mutex
	running := map[int]bool{}
	aloneBeside := map[int]bool{}
	heavyAtOnce := 0
	onLanes(context.Background(), len(cost), lanePlan{parallel: 3, heavy: heavy, heavyMax: 2,
		alone: func(i int) bool { return i == 0 }, cost: func(i int) time.Duration { return cost[i] }}, func(i, lane int) {
		mu.Lock()
		running[i] = true
		n := 0
		for j := range running {
			if heavy(j) {
				n++
			}
			if running[0] && j != 0 {
				aloneBeside[j] = true
			}
		}
		heavyAtOnce = max(heavyAtOnce, n)
		mu.Unlock()
		time.Sleep(cost[i] * time.Millisecond)
		mu.Lock()
		delete(running, i)
		mu.Unlock()
	})
	for j := range aloneBeside {
		assert.False(t, heavy(j), "heavy call %d ran beside the one that runs alone", j)
	}
	assert.NotEmpty(t, aloneBeside, "light calls run beside it")
	assert.Equal(t, 2, heavyAtOnce, "the others share both heavy slots afterwards")
}
