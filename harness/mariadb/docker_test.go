package mariadb

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
)

func TestMain(m *testing.M) {
	// Before any testcontainers call: the reaper cannot run here.
	PrepareEnv()
	// The driver logs every broken connection; faults make many on purpose.
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	os.Exit(m.Run())
}

// dockerImage returns the MariaDB image (built when absent) and an engine
// client, or skips when there is no Docker engine.
func dockerImage(t *testing.T) (string, *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	img := os.Getenv("REGIFY_VERIFY_MARIADB_IMAGE")
	tag, err := images.EnsureMariaDB(ctx, images.MariaDBOptions{Image: img, Docker: cli})
	require.NoError(t, err)
	return tag, cli
}

// requireNothingLeft asserts via the Docker API that no object of the run
// remains.
func requireNothingLeft(t *testing.T, cli *client.Client, runID string) {
	t.Helper()
	ctx := context.Background()
	f := make(client.Filters).Add("label", cleanup.LabelRun+"="+runID)
	cl, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	require.NoError(t, err)
	require.Empty(t, cl.Items, "containers of run %s left", runID)
	nl, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	require.NoError(t, err)
	require.Empty(t, nl.Items, "networks of run %s left", runID)
}

func openApp(t *testing.T, ctx context.Context, p Pair, s Side) *sql.DB {
	t.Helper()
	dsn, err := p.DSN(ctx, s)
	require.NoError(t, err)
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// writer inserts rows on one side until stopped and records the ids the
// server acknowledged. It reopens its connection after a failure, because
// a restarted container has a new port.
type writer struct {
	p     Pair
	side  Side
	table string
	mu    sync.Mutex
	acked []int64
	fails atomic.Int64
}

func (w *writer) run(ctx context.Context) {
	var db *sql.DB
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	for ctx.Err() == nil {
		if db == nil {
			dsn, err := w.p.DSN(ctx, w.side)
			if err != nil {
				w.fails.Add(1)
				sleepCtx(ctx, 20*time.Millisecond)
				continue
			}
			db, _ = sql.Open("mysql", dsn)
		}
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		res, err := db.ExecContext(qctx, "INSERT INTO "+w.table+" (side) VALUES (?)", w.side.String())
		cancel()
		if err != nil {
			w.fails.Add(1)
			db.Close()
			db = nil
			sleepCtx(ctx, 20*time.Millisecond)
			continue
		}
		id, _ := res.LastInsertId()
		w.mu.Lock()
		w.acked = append(w.acked, id)
		w.mu.Unlock()
		sleepCtx(ctx, 2*time.Millisecond)
	}
}

func (w *writer) ids() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int64(nil), w.acked...)
}

// writeBoth runs writers on both sides while during runs, and returns them.
func writeBoth(ctx context.Context, p Pair, table string, during func()) [2]*writer {
	wctx, cancel := context.WithCancel(ctx)
	ws := [2]*writer{{p: p, side: A, table: table}, {p: p, side: B, table: table}}
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(wctx) }()
	}
	during()
	cancel()
	wg.Wait()
	return ws
}

// requireAllPresent checks that every acknowledged id is on both sides.
func requireAllPresent(t *testing.T, ctx context.Context, p Pair, table string, ws [2]*writer) {
	t.Helper()
	for _, s := range Sides {
		db := openApp(t, ctx, p, s)
		have := map[int64]bool{}
		rows, err := db.QueryContext(ctx, "SELECT id FROM "+table)
		require.NoError(t, err)
		for rows.Next() {
			var id int64
			require.NoError(t, rows.Scan(&id))
			have[id] = true
		}
		require.NoError(t, rows.Err())
		rows.Close()
		for _, w := range ws {
			ids := w.ids()
			require.NotEmpty(t, ids, "writer on side %s acknowledged nothing", w.side)
			for _, id := range ids {
				require.True(t, have[id], "id %d acknowledged by side %s missing on side %s", id, w.side, s)
			}
		}
	}
}

func waitFor(t *testing.T, ctx context.Context, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var why string
	for {
		ok, w := cond()
		if ok {
			return
		}
		why = w
		if sleepCtx(ctx, 100*time.Millisecond) != nil {
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
	}
}

func TestDockerPair(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Docker")
	}
	img, cli := dockerImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, err := cleanup.NewRun()
	require.NoError(t, err)
	p, err := NewDocker(DockerOptions{Image: img, Run: run, Docker: cli})
	require.NoError(t, err)
	defer func() {
		require.NoError(t, run.Close(context.Background()))
		requireNothingLeft(t, cli, run.ID)
	}()
	start := time.Now()
	require.NoError(t, p.Up(ctx))
	t.Logf("pair up in %s", time.Since(start).Round(time.Millisecond))

	a := openApp(t, ctx, p, A)
	_, err = a.ExecContext(ctx, "CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, side CHAR(1) NOT NULL, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))")
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
	})

	t.Run("delay 2s gives a measured lag of about 2s", func(t *testing.T) {
		require.NoError(t, p.SetReplicationDelay(ctx, B, 2*time.Second))
		lag, err := p.Lag(ctx, A)
		require.NoError(t, err)
		t.Logf("lag with 2s delay: %s", lag)
		require.InDelta(t, 2.0, lag.Seconds(), 0.3)
		require.NoError(t, p.SetReplicationDelay(ctx, B, 0))
		lag, err = p.Lag(ctx, A)
		require.NoError(t, err)
		require.Less(t, lag, 500*time.Millisecond)
	})

	t.Run("cut with writes on both sides, heal, converge", func(t *testing.T) {
		ws := writeBoth(ctx, p, "t", func() {
			require.NoError(t, p.CutReplication(ctx))
			waitFor(t, ctx, 20*time.Second, "replica IO threads notice the cut", func() (bool, string) {
				st, _ := p.Status(ctx)
				return !st.Sides[A].IORunning && !st.Sides[B].IORunning, describe(st, nil)
			})
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

	t.Run("duplicate key during a cut stops an SQL thread with 1062", func(t *testing.T) {
		// A restarted in the previous subtest: its port changed.
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
	t.Logf("%s", fmt.Sprint("run ", run.ID))
}

func TestDockerUpFailsClearly(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Docker")
	}
	_, cli := dockerImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := cleanup.NewRun()
	require.NoError(t, err)
	p, err := NewDocker(DockerOptions{Image: "regify-verify/does-not-exist:none", Run: run, Docker: cli, Config: Config{ReadyTimeout: 10 * time.Second}})
	require.NoError(t, err)
	err = p.Up(ctx)
	require.Error(t, err)
	t.Logf("error: %v", err)
	require.NoError(t, run.Close(context.Background()))
	requireNothingLeft(t, cli, run.ID)
}
