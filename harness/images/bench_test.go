package images

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
)

// TestBenchMariaDBImage builds the MariaDB image from nothing in both ways,
// in interleaved rounds (host, debootstrap, host, …), each under a bench
// tag of its own that is removed afterwards, so the images in use are never
// touched. The debootstrap side starts from an empty cache directory each
// round (debootstrap from the mirror, then slim and import).
//
//	REGIFY_VERIFY_BENCH=1 [REGIFY_VERIFY_BENCH_ROUNDS=3] [REGIFY_VERIFY_BENCH_HOST_ONLY=1] \
//	  go test -count=1 -timeout 30m -run TestBenchMariaDBImage -v ./harness/images/
func TestBenchMariaDBImage(t *testing.T) {
	if os.Getenv("REGIFY_VERIFY_BENCH") == "" {
		t.Skip("set REGIFY_VERIFY_BENCH=1")
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("REGIFY_VERIFY_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	hostOnly := os.Getenv("REGIFY_VERIFY_BENCH_HOST_ONLY") != ""
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	cli, err := NewDockerClient(ctx)
	if err != nil {
		t.Skipf("no Docker: %v", err)
	}
	defer cli.Close()
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	var host, deboot, ratios []float64
	for i := range rounds {
		tag := MariaDBRepo + ":bench-host-" + suffix
		start := time.Now()
		hostPlans.Lock()
		hostPlans.p = nil // resolve the tree anew, as a new process would
		hostPlans.Unlock()
		p, err := planHost(ctx)
		require.NoError(t, err)
		planned := time.Since(start)
		p.tag = tag
		require.NoError(t, importHost(ctx, cli, p))
		h := time.Since(start)
		removeBench(t, cli, tag)
		host = append(host, h.Seconds())
		t.Logf("round %d host: %.2fs (tree %d files, %d MB, resolved in %s)", i+1, h.Seconds(), len(p.tree.entries), p.tree.size()>>20, planned.Round(time.Millisecond))
		if hostOnly {
			continue
		}
		tag = MariaDBRepo + ":bench-debootstrap-" + suffix
		start = time.Now()
		rootfs, err := EnsureRootfs(ctx, MariaDBOptions{CacheDir: t.TempDir()})
		require.NoError(t, err)
		strapped := time.Since(start)
		require.NoError(t, importRootfs(ctx, cli, rootfs, tag))
		d := time.Since(start)
		removeBench(t, cli, tag)
		deboot = append(deboot, d.Seconds())
		ratios = append(ratios, d.Seconds()/h.Seconds())
		t.Logf("round %d debootstrap: %.2fs (debootstrap and tar %.2fs, slim and import %.2fs); ratio %.0f×", i+1, d.Seconds(), strapped.Seconds(), (d - strapped).Seconds(), d.Seconds()/h.Seconds())
	}
	t.Logf("host from nothing: median %.2fs %v", median(host), host)
	if !hostOnly {
		t.Logf("debootstrap from nothing: median %.2fs %v; median ratio %.0f×", median(deboot), deboot, median(ratios))
	}
}

func removeBench(t *testing.T, cli *client.Client, tag string) {
	t.Helper()
	_, err := cli.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{PruneChildren: true})
	require.NoError(t, err, "remove the bench image %s", tag)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
