package lb

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func always(int) bool { return true }

func TestAffinityTable(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		name string
		p    Persistence
		run  func(t *testing.T, a *affinity, t0 time.Time)
	}{
		{"pin is kept while fresh", Persistence{IdleTimeout: time.Minute, MaxEntries: 10, IPv4Mask: 32, IPv6Mask: 128}, func(t *testing.T, a *affinity, t0 time.Time) {
			k := a.key(ip("127.0.10.1"))
			assert.Equal(t, 1, a.resolve(k, t0, always, func() int { return 1 }))
			assert.Equal(t, 1, a.resolve(k, t0.Add(59*time.Second), always, func() int { return 0 }))
			// each use restarts the idle clock
			assert.Equal(t, 1, a.resolve(k, t0.Add(118*time.Second), always, func() int { return 0 }))
		}},
		{"idle pin expires", Persistence{IdleTimeout: time.Minute, MaxEntries: 10, IPv4Mask: 32, IPv6Mask: 128}, func(t *testing.T, a *affinity, t0 time.Time) {
			k := a.key(ip("127.0.10.1"))
			a.resolve(k, t0, always, func() int { return 1 })
			assert.Equal(t, 0, a.resolve(k, t0.Add(61*time.Second), always, func() int { return 0 }))
			a.sweep(t0.Add(200 * time.Second))
			assert.Zero(t, a.size())
		}},
		{"down backend re-pins", Persistence{IdleTimeout: time.Minute, MaxEntries: 10, IPv4Mask: 32, IPv6Mask: 128}, func(t *testing.T, a *affinity, t0 time.Time) {
			k := a.key(ip("127.0.10.1"))
			a.resolve(k, t0, always, func() int { return 1 })
			assert.Equal(t, 0, a.resolve(k, t0, func(i int) bool { return i != 1 }, func() int { return 0 }))
			assert.Equal(t, 0, a.resolve(k, t0, always, func() int { return 1 }), "no flapping back")
		}},
		{"/24 groups a subnet", Persistence{IdleTimeout: time.Minute, MaxEntries: 10, IPv4Mask: 24, IPv6Mask: 128}, func(t *testing.T, a *affinity, t0 time.Time) {
			a.resolve(a.key(ip("127.0.10.1")), t0, always, func() int { return 1 })
			assert.Equal(t, 1, a.resolve(a.key(ip("127.0.10.200")), t0, always, func() int { return 0 }))
			assert.Equal(t, 0, a.resolve(a.key(ip("127.0.11.1")), t0, always, func() int { return 0 }))
		}},
		{"IPv6 and mapped IPv4", Persistence{IdleTimeout: time.Minute, MaxEntries: 10, IPv4Mask: 32, IPv6Mask: 64}, func(t *testing.T, a *affinity, t0 time.Time) {
			a.resolve(a.key(ip("2001:db8::1")), t0, always, func() int { return 1 })
			assert.Equal(t, 1, a.resolve(a.key(ip("2001:db8::ffff")), t0, always, func() int { return 0 }))
			a.resolve(a.key(ip("127.0.10.9")), t0, always, func() int { return 1 })
			assert.Equal(t, 1, a.resolve(a.key(ip("::ffff:127.0.10.9")), t0, always, func() int { return 0 }))
		}},
		{"size bound holds", Persistence{IdleTimeout: time.Hour, MaxEntries: 640, IPv4Mask: 32, IPv6Mask: 128}, func(t *testing.T, a *affinity, t0 time.Time) {
			for i := 0; i < 10000; i++ {
				a.resolve(affinityKey{v4: uint32(i), is4: true}, t0.Add(time.Duration(i)*time.Millisecond), always, func() int { return 0 })
			}
			assert.LessOrEqual(t, a.size(), 640)
			// the newest pin survives eviction
			_, ok := a.pinned(affinityKey{v4: 9999, is4: true}, t0.Add(10*time.Second))
			assert.True(t, ok)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAffinity(tc.p)
			tc.run(t, a, a.epoch)
		})
	}
}

// fillMillion pins 1,000,000 distinct IPv4 clients and returns the heap
// the table holds.
func fillMillion(t testing.TB) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := newAffinity(Persistence{IdleTimeout: time.Hour, MaxEntries: 1_000_000, IPv4Mask: 32, IPv6Mask: 128})
	now := time.Now()
	for i := 0; i < 1_000_000; i++ {
		a.resolve(affinityKey{v4: 0x0a000000 + uint32(i), is4: true}, now, always, func() int { return i & 1 })
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Equal(t, 1_000_000, a.size())
	runtime.KeepAlive(a)
	return after.HeapAlloc - before.HeapAlloc
}

func TestAffinityMillionClientsUnder128MB(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a million entries")
	}
	bytes := fillMillion(t)
	t.Logf("1,000,000 pins hold %.1f MB", float64(bytes)/(1<<20))
	assert.Less(t, bytes, uint64(128<<20))
}

// BenchmarkAffinityMillion reports the heap of a million-client table.
func BenchmarkAffinityMillion(b *testing.B) {
	var bytes uint64
	for i := 0; i < b.N; i++ {
		bytes = fillMillion(b)
	}
	b.ReportMetric(float64(bytes)/(1<<20), "MB/1M-clients")
}

// BenchmarkAffinityResolve is the per-request cost of persistence.
func BenchmarkAffinityResolve(b *testing.B) {
	a := newAffinity(Persistence{IdleTimeout: time.Hour, MaxEntries: 1_000_000, IPv4Mask: 32, IPv6Mask: 128})
	now := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := uint32(0)
		for pb.Next() {
			i++
			a.resolve(affinityKey{v4: i & 0xffff, is4: true}, now, always, func() int { return 0 })
		}
	})
}

// TestSweepKeepsPinsTouchedAfterItsTick: the sweeper's time comes from a
// ticker and lags requests. A pin touched after that time is fresh; an
// unsigned now-seen wrapped around and dropped it, which moved a healthy
// client to another provider every five seconds or so.
func TestSweepKeepsPinsTouchedAfterItsTick(t *testing.T) {
	a := newAffinity(Persistence{IdleTimeout: time.Minute, MaxEntries: 10, IPv4Mask: 32, IPv6Mask: 128})
	k := a.key(netip.MustParseAddr("127.0.10.4"))
	tick := time.Now()
	got := a.resolve(k, tick.Add(20*time.Millisecond), func(int) bool { return true }, func() int { return 1 })
	require.Equal(t, 1, got)
	a.sweep(tick) // the tick fired before the request touched the pin
	idx, ok := a.pinned(k, tick)
	require.True(t, ok, "a pin seen after the sweep's time survives the sweep")
	require.Equal(t, 1, idx)
	// resolve with an older timestamp than the pin's keeps it too.
	got = a.resolve(k, tick, func(int) bool { return true }, func() int { return 0 })
	require.Equal(t, 1, got, "a request timed just before another keeps the pin")
	// A really idle pin still goes.
	a.sweep(tick.Add(2 * time.Minute))
	_, ok = a.pinned(k, tick.Add(2*time.Minute))
	require.False(t, ok)
}
