package load

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// schedule turns vegeta's paced ticks into arrivals of users. Arrival i
// is due at began + i·period and belongs to a user drawn at random (from
// the seed) among all users, busy or not: a user with a request in flight
// does not hold up the other users' arrivals, and its own next request
// waits for it — a wait that counts as latency (Request.Scheduled). The
// draw is random, not a fixed rotation, so the users never line up with a
// round-robin balancer's rotation and make it look sticky.
type schedule struct {
	began  time.Time
	period time.Duration // 0: unpaced, every arrival is due when it comes

	mu  sync.Mutex
	n   int64
	rng *rand.Rand
}

func newSchedule(seed int64, rate int, began time.Time) *schedule {
	s := &schedule{began: began, rng: rand.New(rand.NewPCG(uint64(seed), 0x61727276))} // "arrv"
	if rate > 0 {
		s.period = time.Second / time.Duration(rate)
	}
	return s
}

// count is how many arrivals were made.
func (s *schedule) count() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// next is the next arrival: when it is due and the index of its user.
func (s *schedule) next(users int) (time.Time, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.n
	s.n++
	u := s.rng.IntN(users)
	now := time.Now()
	if s.period == 0 {
		return now, u
	}
	due := s.began.Add(time.Duration(i) * s.period)
	if due.After(now) {
		due = now // vegeta's clock started a moment after ours
	}
	return due, u
}

// turns lets one request of a user run at a time, in the order of its
// arrivals: arrival k waits until the user has finished arrival k-1.
type turns struct {
	mu      sync.Mutex
	cond    *sync.Cond
	issued  int64 // tickets handed out
	serving int64 // the ticket whose turn it is
}

func newTurns() *turns {
	t := &turns{}
	t.cond = sync.NewCond(&t.mu)
	return t
}

// ticket takes the user's next place in line.
func (t *turns) ticket() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.issued
	t.issued++
	return k
}

// wait blocks until ticket k's turn, or until ctx ends (false).
func (t *turns) wait(ctx context.Context, k int64) bool {
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		t.cond.Broadcast()
		t.mu.Unlock()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.serving != k {
		if ctx.Err() != nil {
			return false
		}
		t.cond.Wait()
	}
	return ctx.Err() == nil
}

// done ends the current turn: the next ticket may go.
func (t *turns) done() {
	t.mu.Lock()
	t.serving++
	t.cond.Broadcast()
	t.mu.Unlock()
}
