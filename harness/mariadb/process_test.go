package mariadb

import (
	"context"
	"errors"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness/cleanup"
)

// newTestProcess prepares a process pair or skips when MariaDB is not
// installed.
func newTestProcess(t *testing.T, o ProcessOptions) *Process {
	t.Helper()
	p, err := NewProcess(o)
	if err != nil && o.Binary == "" {
		t.Skipf("no local MariaDB: %v", err)
	}
	require.NoError(t, err)
	return p
}

// pidLog remembers every mariadbd pid a pair ran, so that the test can
// prove none outlives Close.
type pidLog struct {
	mu   sync.Mutex
	pids map[int]Side
}

func (l *pidLog) note(p *Process) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pids == nil {
		l.pids = map[int]Side{}
	}
	for _, s := range Sides {
		if pid := p.PID(s); pid != 0 {
			l.pids[pid] = s
		}
	}
}

// requireGone asserts that no process of ours is left: each pid is either
// gone or (reused) no longer our child mariadbd.
func (l *pidLog) requireGone(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	require.NotEmpty(t, l.pids)
	for pid, s := range l.pids {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			continue
		}
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		t.Errorf("mariadbd of side %s (pid %d) still exists: kill(0)=%v stat=%q", s, pid, err, b)
	}
}

// trackedProcess records the pid of every server it starts.
type trackedProcess struct {
	*Process
	log *pidLog
}

func (tp trackedProcess) Start(ctx context.Context, s Side) error {
	err := tp.Process.Start(ctx, s)
	tp.log.note(tp.Process)
	return err
}

func TestProcessPair(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run, err := cleanup.NewRun()
	require.NoError(t, err)
	p := newTestProcess(t, ProcessOptions{Run: run})
	pids := &pidLog{}
	defer func() {
		dir := p.Dir()
		pids.note(p) // also when Up failed half-way
		require.NoError(t, run.Close(context.Background()))
		pids.requireGone(t)
		_, err := os.Stat(dir)
		require.True(t, os.IsNotExist(err), "temp dir %s left: %v", dir, err)
	}()
	start := time.Now()
	require.NoError(t, p.Up(ctx))
	pids.note(p)
	t.Logf("process pair up in %s (dir %s)", time.Since(start).Round(time.Millisecond), p.Dir())
	var addrs [2]string
	for _, s := range Sides {
		addrs[s], err = p.Addr(ctx, s)
		require.NoError(t, err)
	}

	pairSuite(t, ctx, trackedProcess{Process: p, log: pids})

	t.Run("addresses stay the same across kill, stop and start", func(t *testing.T) {
		for _, s := range Sides {
			a, err := p.Addr(ctx, s)
			require.NoError(t, err)
			require.Equal(t, addrs[s], a)
		}
		require.Len(t, pids.pids, 4, "Up started 2 servers, the suite restarted each side once")
	})

	t.Run("pause freezes the server, unpause thaws it", func(t *testing.T) {
		require.NoError(t, p.Pause(ctx, B))
		db := openApp(t, ctx, p, B)
		qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := db.PingContext(qctx)
		qcancel()
		require.Error(t, err, "a paused server must not answer")
		require.NoError(t, p.Unpause(ctx, B))
		require.NoError(t, db.PingContext(ctx))
	})
}

// pairSuite is the behaviour every backend that can break a pair must
// show, on a pair that is up.
func pairSuite(t *testing.T, ctx context.Context, p Pair) {
	a := openApp(t, ctx, p, A)
	_, err := a.ExecContext(ctx, "CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, side CHAR(1) NOT NULL, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))")
	require.NoError(t, err)
	require.NoError(t, p.WaitConverged(ctx, []string{"t"}, 20*time.Second))

	t.Run("rows cross both ways and ids never collide", func(t *testing.T) {
		ws := writeBoth(ctx, p, "t", func() { time.Sleep(time.Second) })
		require.NoError(t, p.WaitConverged(ctx, []string{"t"}, 20*time.Second))
		requireAllPresent(t, ctx, p, "t", ws)
		for _, w := range ws {
			for _, id := range w.ids() {
				// Offsets 1 and 2 with increment 2: A odd, B even.
				require.Equal(t, int64(w.side)+1, (id-1)%2+1, "id %d from side %s", id, w.side)
			}
		}
		st, err := p.Status(ctx)
		require.NoError(t, err)
		require.True(t, st.Healthy(), describe(st, nil))
		require.Equal(t, [2]int{1, 2}, [2]int{st.Sides[A].AutoIncrementOffset, st.Sides[B].AutoIncrementOffset})
		require.Equal(t, [2]int{1, 2}, [2]int{st.Sides[A].GTIDDomainID, st.Sides[B].GTIDDomainID})
	})

	t.Run("delay 2s gives a measured lag of about 2s", func(t *testing.T) {
		require.NoError(t, p.SetReplicationDelay(ctx, B, 2*time.Second))
		lag, err := p.Lag(ctx, A)
		require.NoError(t, err)
		t.Logf("lag with 2s delay: %s", lag)
		// The delay can only add: at least 2s (less a clock tick), and not
		// far more on a busy machine.
		require.GreaterOrEqual(t, lag, 1900*time.Millisecond)
		require.Less(t, lag, 3*time.Second)
		require.NoError(t, p.SetReplicationDelay(ctx, B, 0))
		lag, err = p.Lag(ctx, A)
		require.NoError(t, err)
		require.Less(t, lag, time.Second, "the delay is gone")
	})

	t.Run("cut with writes on both sides, heal, converge", func(t *testing.T) {
		ws := writeBoth(ctx, p, "t", func() {
			require.NoError(t, p.CutReplication(ctx))
			waitFor(t, ctx, 20*time.Second, "replica IO threads notice the cut", func() (bool, string) {
				st, _ := p.Status(ctx)
				return !st.Sides[A].IORunning && !st.Sides[B].IORunning, describe(st, nil)
			})
			// Writes on both sides while the link is down.
			time.Sleep(500 * time.Millisecond)
			require.NoError(t, p.HealReplication(ctx))
		})
		for _, w := range ws {
			require.Greater(t, len(w.ids()), 10, "app writes on side %s kept working during the cut", w.side)
		}
		require.NoError(t, p.WaitConverged(ctx, []string{"t"}, 30*time.Second))
		requireAllPresent(t, ctx, p, "t", ws)
	})

	t.Run("sigkill under writes rejoins and converges", func(t *testing.T) {
		ws := writeBoth(ctx, p, "t", func() {
			time.Sleep(300 * time.Millisecond)
			require.NoError(t, p.Kill(ctx, B))
			require.NoError(t, p.Start(ctx, B))
			time.Sleep(300 * time.Millisecond)
		})
		require.NoError(t, p.WaitConverged(ctx, []string{"t"}, 30*time.Second))
		requireAllPresent(t, ctx, p, "t", ws)
		waitFor(t, ctx, 20*time.Second, "replication healthy after restart", func() (bool, string) {
			st, _ := p.Status(ctx)
			return st.Healthy(), describe(st, nil)
		})
	})

	t.Run("pause, stop and one-way replica stop", func(t *testing.T) {
		require.NoError(t, p.Pause(ctx, A))
		require.NoError(t, p.Unpause(ctx, A))
		require.NoError(t, p.Stop(ctx, A))
		require.NoError(t, p.Start(ctx, A))
		require.NoError(t, p.StopReplica(ctx, B))
		_, err := openApp(t, ctx, p, A).ExecContext(ctx, "INSERT INTO t (side) VALUES ('a')")
		require.NoError(t, err)
		st, err := p.Status(ctx)
		require.NoError(t, err)
		require.False(t, st.Sides[B].SQLRunning)
		require.True(t, st.Sides[A].SQLRunning)
		require.NoError(t, p.StartReplica(ctx, B))
		require.NoError(t, p.WaitConverged(ctx, []string{"t"}, 30*time.Second))
	})

	t.Run("rows both masters changed converge through the provider's triggers", func(t *testing.T) {
		requireProviderRowsConverge(t, ctx, p)
	})

	t.Run("duplicate key during a cut stops an SQL thread with 1062", func(t *testing.T) {
		a := openApp(t, ctx, p, A)
		_, err := a.ExecContext(ctx, "CREATE TABLE u (k VARCHAR(20) PRIMARY KEY, v CHAR(1))")
		require.NoError(t, err)
		require.NoError(t, p.WaitConverged(ctx, []string{"u"}, 20*time.Second))
		require.NoError(t, p.CutReplication(ctx))
		for _, s := range Sides {
			_, err := openApp(t, ctx, p, s).ExecContext(ctx, "INSERT INTO u VALUES ('dup', ?)", s.String())
			require.NoError(t, err)
		}
		require.NoError(t, p.HealReplication(ctx))
		waitFor(t, ctx, 30*time.Second, "SQL thread stopped with 1062", func() (bool, string) {
			st, _ := p.Status(ctx)
			for _, x := range st.Sides {
				if !x.SQLRunning && x.LastSQLErrno == 1062 {
					return true, ""
				}
			}
			return false, describe(st, nil)
		})
		err = p.WaitConverged(ctx, []string{"u"}, 2*time.Second)
		require.Error(t, err, "a diverged pair must not count as converged")
	})
}

func TestProcessFailsClearly(t *testing.T) {
	t.Run("mariadbd missing names the fix", func(t *testing.T) {
		_, err := NewProcess(ProcessOptions{Binary: "/nonexistent/mariadbd"})
		require.ErrorContains(t, err, "install mariadb-server")
	})
	t.Run("a server that exits at start fails at once, leaves nothing", func(t *testing.T) {
		newTestProcess(t, ProcessOptions{}) // skips without MariaDB
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		run, err := cleanup.NewRun()
		require.NoError(t, err)
		p := newTestProcess(t, ProcessOptions{Run: run, Binary: "/bin/false", Config: Config{ReadyTimeout: 30 * time.Second}})
		start := time.Now()
		err = p.Up(ctx)
		require.ErrorContains(t, err, "exited while starting")
		require.Less(t, time.Since(start), 20*time.Second, "no waiting out the ready timeout")
		t.Logf("error: %v", err)
		dir := p.Dir()
		require.NoError(t, run.Close(context.Background()))
		_, err = os.Stat(dir)
		require.True(t, os.IsNotExist(err))
	})
}

// TestBenchProcessPair measures process pair up time for BENCHMARKS.md.
// Run with REGIFY_VERIFY_BENCH=1.
func TestBenchProcessPair(t *testing.T) {
	if os.Getenv("REGIFY_VERIFY_BENCH") == "" {
		t.Skip("set REGIFY_VERIFY_BENCH=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var ups, downs []time.Duration
	for range 5 {
		run, err := cleanup.NewRun()
		require.NoError(t, err)
		p := newTestProcess(t, ProcessOptions{Run: run})
		start := time.Now()
		require.NoError(t, p.Up(ctx))
		ups = append(ups, time.Since(start))
		start = time.Now()
		require.NoError(t, run.Close(context.Background()))
		downs = append(downs, time.Since(start))
	}
	sort.Slice(ups, func(a, b int) bool { return ups[a] < ups[b] })
	t.Logf("process pair up (install + copy + 2 servers + replication + heartbeat each way): min %s median %s max %s; teardown max %s",
		ups[0].Round(time.Millisecond), ups[len(ups)/2].Round(time.Millisecond), ups[len(ups)-1].Round(time.Millisecond), maxDur(downs).Round(time.Millisecond))
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
