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

	pairSuite(t, ctx, p)
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
