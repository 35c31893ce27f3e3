package load

import (
	"context"
	"math/rand/v2"
	"sync"
)

// idlePool holds the users without a request in flight. The next user is
// drawn at random, not first in first out: a fixed rotation of users would
// line up with a round-robin balancer's rotation and make it look sticky
// (with an even number of users per domain every user would meet the same
// backend every time).
type idlePool struct {
	mu    sync.Mutex
	users []*user
	rng   *rand.Rand
	ready chan struct{} // one token per idle user
}

func newIdlePool(capacity int, seed int64) *idlePool {
	return &idlePool{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x69646c65)), // "idle"
		ready: make(chan struct{}, capacity),
	}
}

// put returns a user to the pool.
func (p *idlePool) put(u *user) {
	p.mu.Lock()
	p.users = append(p.users, u)
	p.mu.Unlock()
	p.ready <- struct{}{}
}

// take waits for an idle user and draws one at random.
func (p *idlePool) take(ctx context.Context) (*user, bool) {
	select {
	case <-p.ready:
	case <-ctx.Done():
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.rng.IntN(len(p.users))
	u := p.users[i]
	last := len(p.users) - 1
	p.users[i] = p.users[last]
	p.users = p.users[:last]
	return u, true
}
