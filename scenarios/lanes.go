package scenarios

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/harness"
)

// DefaultParallel is how many lab scenarios run at once by default: one
// more than the cores, at most 4. A scenario's load is light and most of
// its time is waiting (for a fault's hold, for health checks, for
// replication), but its verdicts time users to the second. On 2 cores
// four at once finish the catalogue in about 2 minutes (113-123 s), but
// two of its fresh-clone CI runs each had wrong verdicts (waits of
// 1.1-1.3 s in the first database scenarios; a provider-hang recovery of
// 6.1 s in the nemesis); three at once take about 2 min 10 s with every
// verdict held (BENCHMARKS.md). A verdict that depends on the load of the
// machine is not one to ship.
func DefaultParallel() int {
	return min(runtime.NumCPU()+1, 4)
}

// DefaultDatabaseParallel is how many scenarios with the MariaDB pair run
// at once by default: two. Measured on 2 cores (BENCHMARKS.md): with four
// pairs coming up and taking load together, lab up took 18-34 s instead
// of 7 s, replication lagged by seconds and eight verdicts were the
// machine's; with two, lab up took 12 s on average and every verdict held
// (43 of 43); with one, the database scenarios form a chain that the
// others cannot shorten (320 s against 240 s).
const DefaultDatabaseParallel = 2

// lanePlan says what onLanes may run side by side.
type lanePlan struct {
	// parallel bounds the calls running at once (each on its own lane).
	parallel int
	// heavy marks the calls of which at most heavyMax run at once (the
	// scenarios with a database pair); they are started first, since
	// they are the longest chain.
	heavy    func(i int) bool
	heavyMax int
	// solo, when set, marks calls of which at most one runs at a time,
	// heavy or not; they are started before the others, since they are
	// the next longest chain.
	solo func(i int) bool
	// cost, when set, is how long a call is expected to take: among the
	// calls it may start, the scheduler starts the longest first (the
	// nemesis' 30 s should not be the last thing running).
	cost func(i int) time.Duration
}

// onLanes calls do(i, lane) for i in [0, n) on up to plan.parallel
// goroutines, lane being the goroutine's number (0 to parallel-1), so no
// two calls running at the same time share a lane. Once ctx ends it starts
// no further call. It returns how many calls it made.
func onLanes(ctx context.Context, n int, plan lanePlan, do func(i, lane int)) int {
	s := &laneScheduler{pending: make([]int, n), plan: plan}
	for i := range n {
		s.pending[i] = i
	}
	if s.plan.heavy == nil {
		s.plan.heavy = func(int) bool { return false }
	}
	if s.plan.solo == nil {
		s.plan.solo = func(int) bool { return false }
	}
	s.plan.heavyMax = max(s.plan.heavyMax, 1)
	s.cond = sync.NewCond(&s.mu)
	var wg sync.WaitGroup
	for lane := range min(max(plan.parallel, 1), max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := s.next(ctx)
				if !ok {
					return
				}
				do(i, lane)
				s.done(i)
			}
		}()
	}
	wg.Wait()
	return s.started
}

type laneScheduler struct {
	plan    lanePlan
	mu      sync.Mutex
	cond    *sync.Cond
	pending []int // in the order given
	heavy   int   // heavy calls running
	solo    int   // solo calls running
	started int
}

// next takes the call to run: of those it may start — a heavy one while a
// heavy slot is free, a solo one while no other runs — a solo one first,
// then a heavy one, then a light one, the costliest of its kind (the
// first given on a tie); with none it waits for a call to end. ok is
// false when nothing is left to start.
func (s *laneScheduler) next(ctx context.Context) (i int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(s.pending) == 0 || ctx.Err() != nil {
			return 0, false
		}
		pick := -1
		for k, j := range s.pending {
			if s.plan.heavy(j) && s.heavy >= s.plan.heavyMax || s.plan.solo(j) && s.solo > 0 {
				continue
			}
			switch {
			case pick < 0, s.rank(j) > s.rank(s.pending[pick]):
				pick = k
			case s.rank(j) == s.rank(s.pending[pick]) && s.plan.cost != nil && s.plan.cost(j) > s.plan.cost(s.pending[pick]):
				pick = k
			}
		}
		if pick >= 0 {
			i = s.pending[pick]
			s.pending = append(s.pending[:pick], s.pending[pick+1:]...)
			if s.plan.heavy(i) {
				s.heavy++
			}
			if s.plan.solo(i) {
				s.solo++
			}
			s.started++
			return i, true
		}
		s.cond.Wait() // what is left waits for a heavy slot or its solo turn
	}
}

// rank orders the kinds of call: solo ones first, then heavy, then light.
func (s *laneScheduler) rank(j int) int {
	switch {
	case s.plan.solo(j):
		return 2
	case s.plan.heavy(j):
		return 1
	}
	return 0
}

func (s *laneScheduler) done(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plan.heavy(i) {
		s.heavy--
	}
	if s.plan.solo(i) {
		s.solo--
	}
	s.cond.Broadcast()
}

// withPairPool gives the labs of several scenarios one harness.PairPool,
// so that each database scenario after the first finds a pair up (a
// negative control's deliberately wrong one too: the pool shapes a usual
// pair into it), and warms it: before the first scenario starts, it
// brings up one pair for each database lane, one after the other, so that
// no two come up beside each other and beside scenarios being timed. A
// pair a scenario broke beyond repair is replaced on its lane, in 1.5 s
// from the initialised image: started ahead in the background they came
// up beside timed scenarios and cost verdicts (BENCHMARKS.md). done
// closes the pairs left in it. A deployment (custom opener) or a pool
// already given is left alone.
func withPairPool(ctx context.Context, cfg Config, specs []Spec, dbParallel int) (_ Config, done func()) {
	if cfg.Open != nil || cfg.Base.Pairs != nil {
		return cfg, func() {}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pool := harness.NewPairPool(log)
	cfg.Base.Pairs = pool
	demand := pairDemand(cfg.Base, specs)
	lanes := min(max(dbParallel, 1), len(demand))
	var hosts []string
	for lane := range lanes {
		plan, err := harness.DefaultPlan(1, false)
		if err == nil {
			plan, err = plan.OnLane(lane)
		}
		if err != nil {
			log.Warn("warm the pair pool", "err", err)
			break
		}
		hosts = append(hosts, plan.Database.String())
	}
	if len(hosts) > 0 {
		if err := pool.Warm(ctx, cfg.Base.DB, hosts, log); err != nil {
			// The scenarios start their own pairs and say what failed.
			log.Warn("warm the pair pool", "err", err)
		}
	}
	return cfg, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := pool.Close(ctx); err != nil {
			log.Warn("close the pooled mariadb pairs", "err", err)
		}
		started, reused, shaped, discarded := pool.Stats()
		log.Info("mariadb pairs", "started", started, "reused", reused, "shaped", shaped, "discarded", discarded)
	}
}

// pairDemand lists the MariaDB pair each database scenario of specs
// takes, in the order given.
func pairDemand(base harness.Options, specs []Spec) []harness.PairOptions {
	var out []harness.PairOptions
	for _, spec := range specs {
		sc := spec()
		if !sc.NeedsDatabase {
			continue
		}
		o := base
		if sc.Lab != nil {
			sc.Lab(&o)
		}
		out = append(out, o.DB)
	}
	return out
}
