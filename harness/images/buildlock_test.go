//go:build unix

package images

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildLockIsExclusive: builders taking the lock at once hold it one
// at a time, and one that waits gives up when its context ends.
func TestBuildLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := buildLock(context.Background(), dir, "img")
			if !assert.NoError(t, err) {
				return
			}
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), most.Load(), "two builders held the lock at once")

	unlock, err := buildLock(context.Background(), dir, "img")
	require.NoError(t, err)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err = buildLock(ctx, dir, "img")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "wait for another build of the image")
}
