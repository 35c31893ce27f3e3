package mariadb

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness/cleanup"
)

// TestBenchLabFoundation measures pair up time and healthy replication lag
// for BENCHMARKS.md. Run with REGIFY_VERIFY_BENCH=1.
func TestBenchLabFoundation(t *testing.T) {
	if os.Getenv("REGIFY_VERIFY_BENCH") == "" {
		t.Skip("set REGIFY_VERIFY_BENCH=1")
	}
	img, cli := dockerImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ups = 3
	for i := 0; i < ups; i++ {
		run, err := cleanup.NewRun()
		require.NoError(t, err)
		p, err := NewDocker(DockerOptions{Image: img, Run: run, Docker: cli})
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, p.Up(ctx))
		t.Logf("pair up #%d: %s", i+1, time.Since(start).Round(time.Millisecond))
		if i == ups-1 {
			var lags []time.Duration
			for j := 0; j < 200; j++ {
				l, err := p.Lag(ctx, Sides[j%2])
				require.NoError(t, err)
				lags = append(lags, l)
			}
			sort.Slice(lags, func(a, b int) bool { return lags[a] < lags[b] })
			t.Logf("lag over %d heartbeats: median %s p95 %s max %s", len(lags), lags[len(lags)/2], lags[len(lags)*95/100], lags[len(lags)-1])
		}
		start = time.Now()
		require.NoError(t, run.Close(context.Background()))
		t.Logf("teardown #%d: %s", i+1, time.Since(start).Round(time.Millisecond))
		requireNothingLeft(t, cli, run.ID)
	}
}
