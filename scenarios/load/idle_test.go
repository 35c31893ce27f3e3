package load

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIdlePoolBreaksRoundRobinAlignment: with an even number of users a
// first-in-first-out rotation hands every user the same backend of a
// round-robin balancer every time. The pool's random draw must not.
func TestIdlePoolBreaksRoundRobinAlignment(t *testing.T) {
	users := make([]*user, 4)
	p := newIdlePool(len(users), 1)
	for i := range users {
		users[i] = &user{idx: i}
		p.put(users[i])
	}
	seen := map[int]map[int]bool{} // user -> backends met
	for n := 0; n < 200; n++ {
		u, ok := p.take(context.Background())
		require.True(t, ok)
		if seen[u.idx] == nil {
			seen[u.idx] = map[int]bool{}
		}
		seen[u.idx][n%2] = true // a round-robin balancer over two backends
		p.put(u)
	}
	for i := range users {
		require.Len(t, seen[i], 2, "user %d met only one backend of a round-robin balancer", i)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	empty := newIdlePool(1, 1)
	_, ok := empty.take(ctx)
	require.False(t, ok, "take gives up when the run ends")
}
