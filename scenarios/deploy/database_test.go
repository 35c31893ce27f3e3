package deploy

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// mariaPair is two local mariadbd processes replicating from each other,
// started by the test and stopped (by pid) when it ends.
type mariaPair struct {
	dsn [2]string
	db  [2]*sql.DB
}

// startMariaPair starts the pair with the given auto-increment offsets.
func startMariaPair(t *testing.T, offsets [2]int) *mariaPair {
	t.Helper()
	bin := lookBinary(t, "/usr/sbin/mariadbd", "mariadbd")
	install := lookBinary(t, "/usr/bin/mariadb-install-db", "mariadb-install-db")
	base := t.TempDir()
	p := &mariaPair{}
	ports := [2]int{freePort(t, "127.0.0.1"), freePort(t, "127.0.0.1")}
	for i := range 2 {
		dir := filepath.Join(base, sideName(i))
		data := filepath.Join(dir, "data")
		tmp := filepath.Join(dir, "tmp")
		require.NoError(t, os.MkdirAll(data, 0o755))
		require.NoError(t, os.MkdirAll(tmp, 0o755))
		// One tmpdir per server: installs side by side sharing /tmp
		// collide on their temporary tables.
		out, err := exec.Command(install, "--no-defaults", "--user=root", "--datadir="+data, "--tmpdir="+tmp,
			"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput()
		require.NoError(t, err, "mariadb-install-db: %s", out)
		_, exited := startProcessPID(t, bin, "--no-defaults", "--user=root", "--datadir="+data, "--tmpdir="+tmp,
			"--socket="+filepath.Join(dir, "sock"), "--pid-file="+filepath.Join(dir, "pid"),
			"--bind-address=127.0.0.1", "--port="+strconv.Itoa(ports[i]), "--skip-name-resolve",
			"--server-id="+strconv.Itoa(i+1), "--gtid-domain-id="+strconv.Itoa(i+1), "--log-bin=bin",
			"--binlog-format=ROW", "--log-slave-updates=ON", // a pair set up as replication-settings asks
			"--auto-increment-increment=2", "--auto-increment-offset="+strconv.Itoa(offsets[i]),
			"--innodb-buffer-pool-size=16M", "--log-error="+filepath.Join(dir, "err.log"))
		p.dsn[i] = fmt.Sprintf("root:@tcp(127.0.0.1:%d)/", ports[i])
		db, err := sql.Open("mysql", p.dsn[i])
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		p.db[i] = db
		waitSQL(t, db, exited)
	}
	ctx := context.Background()
	for i := range 2 {
		other := ports[1-i]
		for _, q := range []string{
			fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", other),
			"START SLAVE",
		} {
			_, err := p.db[i].ExecContext(ctx, q)
			require.NoError(t, err, q)
		}
	}
	_, err := p.db[0].ExecContext(ctx, "CREATE DATABASE regify")
	require.NoError(t, err)
	_, err = p.db[0].ExecContext(ctx, "CREATE TABLE regify.messages (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)")
	require.NoError(t, err)
	_, err = p.db[0].ExecContext(ctx, "INSERT INTO regify.messages (body) VALUES ('a'), ('b')")
	require.NoError(t, err)
	// Wait until the rows replicated to b: the test judges a settled pair.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := p.db[1].QueryRowContext(ctx, "SELECT COUNT(*) FROM regify.messages").Scan(&n)
		if err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the test rows did not replicate to b within 30s: %v (%d rows)", err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 2 {
		p.dsn[i] += "regify"
	}
	return p
}

// waitSQL waits until the server answers, or fails when it exits.
func waitSQL(t *testing.T, db *sql.DB, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd did not answer within 60s: %v", err)
		}
		select {
		case <-exited:
			t.Fatal("mariadbd exited during start-up")
		case <-tick.C:
		}
	}
}

func TestReadDatabaseHealthyPair(t *testing.T) {
	// Its own processes on its own ports: beside the other long tests.
	t.Parallel()
	p := startMariaPair(t, [2]int{1, 2})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := &Database{A: p.dsn[0], B: p.dsn[1], Tables: []string{"messages"}, MaxLag: 5 * time.Second}
	state, lags := readDatabase(ctx, d, "dbtest", nil)
	require.Len(t, state.Sides, 2)
	for _, s := range state.Sides {
		assert.True(t, s.Reachable, s.Err)
		assert.True(t, s.IORunning && s.SQLRunning, "side %s: %s %s", s.Name, s.LastIOError, s.LastSQLError)
		assert.Equal(t, 2, s.AutoIncInc)
		assert.NotEqual(t, -1, s.Checksums["messages"])
	}
	assert.True(t, state.Converged)
	require.Len(t, lags, 2*dbRounds)
	for _, l := range lags {
		assert.Empty(t, l.Err)
		assert.Less(t, l.Lag, 5*time.Second)
	}
	assertNoHeartbeatTable(t, p)
}

// Negative control: one replica stopped and equal offsets.
func TestReadDatabaseBrokenPair(t *testing.T) {
	// Its own processes on its own ports: beside the other long tests.
	t.Parallel()
	p := startMariaPair(t, [2]int{1, 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := p.db[1].ExecContext(ctx, "STOP SLAVE")
	require.NoError(t, err)
	d := &Database{A: p.dsn[0], B: p.dsn[1], Tables: []string{"messages"}, MaxLag: 500 * time.Millisecond}
	state, lags := readDatabase(ctx, d, "dbbroken", nil)
	assert.False(t, state.Sides[1].IORunning)
	failed := map[string]int{}
	for _, l := range lags {
		if l.Err != "" {
			failed[l.From]++
		}
	}
	// b's replica is stopped: what a writes never reaches b.
	assert.Equal(t, map[string]int{"a": dbRounds}, failed)
	h := &history.History{Meta: history.Meta{Started: time.Now()}, Final: history.Final{DB: state, Lag: lags}}
	got := map[string]reports.Verdict{}
	for _, inv := range check.Run(h, []check.Invariant{check.ReplicationHealth{}, check.AutoIncrement{}, check.ReplicationLag{Max: time.Second}}) {
		got[inv.Name] = inv.Verdict
		t.Logf("%s %s %s %v", inv.Name, inv.Verdict, inv.Summary, inv.Evidence)
	}
	assert.Equal(t, map[string]reports.Verdict{
		check.NameReplicationHealth: reports.Fail, check.NameAutoIncrement: reports.Fail, check.NameReplicationLag: reports.Fail,
	}, got)
	assertNoHeartbeatTable(t, p)
}

func assertNoHeartbeatTable(t *testing.T, p *mariaPair) {
	t.Helper()
	for i, db := range p.db {
		var n int
		require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_name LIKE 'regify_verify_hb_%'").Scan(&n))
		assert.Zero(t, n, "heartbeat table left on side %s", sideName(i))
	}
}

// The whole non-destructive check on the good HAProxy configuration over a
// healthy pair: every invariant, HTTP and database, passes.
func TestCheckHAProxyWithDatabase(t *testing.T) {
	// Its own processes on its own ports: beside the other long tests.
	t.Parallel()
	bin := lookBinary(t, haproxyBin, "haproxy")
	p := startMariaPair(t, [2]int{1, 2})
	rig := newRig(t)
	cfg := rig.render(t, filepath.Join("..", "..", "examples", "haproxy", "good.cfg.tmpl"))
	rig.waitReady(t, startProcess(t, bin, "-db", "-f", cfg))
	d := rig.deployment(t, fmt.Sprintf("database:\n  a: %s\n  b: %s\n  tables: [messages]\n", p.dsn[0], p.dsn[1]))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Check(ctx, d, Options{Seed: 5, RunID: "withdb"})
	require.NoError(t, err)
	sc := &rep.Scenarios[0]
	logScenario(t, sc)
	assert.Empty(t, failing(sc))
	v := verdicts(sc)
	for _, name := range []string{check.NameReplicationLag, check.NameReplicationConvergence, check.NameAutoIncrement, check.NameReplicationHealth} {
		assert.Equal(t, reports.Pass, v[name], name)
	}
	assertNoHeartbeatTable(t, p)
}
