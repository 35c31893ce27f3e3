package dbobserve_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/mariadb"
	"github.com/regify-verify/regify-verify/history"
)

// processPair starts the harness's process pair (two local mariadbd) and
// removes it when the test ends; it skips without a local MariaDB.
func processPair(t *testing.T, ctx context.Context) mariadb.Pair {
	t.Helper()
	run, err := cleanup.NewRun()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, run.Close(context.Background())) })
	p, err := mariadb.NewProcess(mariadb.ProcessOptions{Run: run})
	if err != nil {
		t.Skipf("no local MariaDB: %v", err)
	}
	require.NoError(t, p.Up(ctx))
	return p
}

func appDB(t *testing.T, ctx context.Context, p mariadb.Pair, s mariadb.Side) (*sql.DB, string) {
	t.Helper()
	dsn, err := p.DSN(ctx, s)
	require.NoError(t, err)
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

func TestObserverOnProcessPair(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := processPair(t, ctx)
	obs := p.Observer()
	a, dsnA := appDB(t, ctx, p, mariadb.A)
	_, dsnB := appDB(t, ctx, p, mariadb.B)
	for _, q := range []string{
		"CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20) NOT NULL)",
		"INSERT INTO t VALUES (1, 'one'), (2, 'two')",
		"CREATE TABLE messages (id BIGINT AUTO_INCREMENT PRIMARY KEY, tenant VARCHAR(20), msg_id VARCHAR(20))",
		"INSERT INTO messages (tenant, msg_id) VALUES ('abc.test', 'm1'), ('def.test', 'm1'), ('abc.test', 'm2')",
	} {
		_, err := a.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	conv, err := obs.WaitConverged(ctx, dbobserve.ConvergeOptions{Tables: []string{"t", "messages"}, Bound: 20 * time.Second, Applied: true})
	require.NoError(t, err)
	require.True(t, conv.Converged)
	require.NotNil(t, conv.Sums)

	t.Run("status and settings of each side in one read", func(t *testing.T) {
		for _, s := range dbobserve.Sides {
			x := obs.Status(ctx, s)
			require.True(t, x.Reachable, "%v", x.Err)
			require.NoError(t, x.ReplicaErr)
			assert.True(t, x.Configured && x.Healthy(), "side %s: io %s %d %s sql %t", s, x.IOState, x.LastIOErrno, x.LastIOError, x.SQLRunning)
			assert.Equal(t, int(s)+1, x.ServerID)
			assert.Equal(t, int(s)+1, x.GTIDDomainID)
			assert.Equal(t, "ROW", x.BinlogFormat)
			assert.True(t, x.LogSlaveUpdates)
			assert.False(t, x.ReadOnly)
			assert.Equal(t, 2, x.AutoIncrementIncrement)
			assert.Equal(t, int(s)+1, x.AutoIncrementOffset)
			assert.NotEmpty(t, x.GTIDBinlogPos)
		}
	})

	t.Run("heartbeat lag both ways", func(t *testing.T) {
		for _, s := range dbobserve.Sides {
			lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
			smp := obs.Sample(lctx, s)
			lcancel()
			assert.Empty(t, smp.Err)
			assert.Equal(t, s.String(), smp.From)
			assert.Less(t, smp.Lag, time.Second)
		}
	})

	t.Run("messages per id, or per tenant and id", func(t *testing.T) {
		ids, err := obs.MessageIDs(ctx, dbobserve.B, dbobserve.Messages{Table: "messages", ID: "msg_id"})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"m1": 2, "m2": 1}, ids)
		ids, err = obs.MessageIDs(ctx, dbobserve.B, dbobserve.Messages{Table: "messages", ID: "msg_id", Tenant: "tenant"})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"abc.test/m1": 1, "def.test/m1": 1, "abc.test/m2": 1}, ids)
	})

	t.Run("a heartbeat table of its own on DSNs, created and dropped", func(t *testing.T) {
		o, err := dbobserve.Open(dsnA, dsnB, dbobserve.WithHeartbeat("hb_test", 10*time.Millisecond))
		require.NoError(t, err)
		defer o.Close()
		require.NoError(t, o.CreateHeartbeat(ctx, 10*time.Second))
		for _, s := range dbobserve.Sides {
			lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := o.Lag(lctx, s)
			lcancel()
			require.NoError(t, err)
		}
		require.NoError(t, o.DropHeartbeat(ctx, 10*time.Second))
		for _, s := range dbobserve.Sides {
			db, err := o.DB(ctx, s)
			require.NoError(t, err)
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'hb_test'").Scan(&n))
			assert.Zero(t, n, "heartbeat table left on side %s", s)
		}
	})

	// Negative control: a row changed on b outside the binary log while
	// replication runs. The threads stay healthy, only the comparison of
	// the data catches it, and the changed row is the witness.
	t.Run("a row changed with sql_log_bin=0 is not converged, with that row as witness", func(t *testing.T) {
		root, err := obs.DB(ctx, dbobserve.B)
		require.NoError(t, err)
		conn, err := root.Conn(ctx)
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "SET SESSION sql_log_bin = 0")
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "UPDATE regify.t SET v = 'drift' WHERE id = 2")
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "SET SESSION sql_log_bin = 1")
		require.NoError(t, err)
		require.NoError(t, conn.Close())

		start := time.Now()
		conv, err := obs.WaitConverged(ctx, dbobserve.ConvergeOptions{Tables: []string{"t"}, Bound: 2 * time.Second, Applied: true})
		require.ErrorIs(t, err, dbobserve.ErrNotConverged)
		assert.False(t, conv.Converged)
		assert.Contains(t, conv.Why, "checksums differ")
		assert.Less(t, time.Since(start), 10*time.Second, "the wait is bounded")

		diffs, err := obs.DiffRows(ctx, []string{"t"}, 10)
		require.NoError(t, err)
		want := []history.RowDiff{{Table: "t", Key: "id=2", Columns: []history.ColumnDiff{{Name: "v", A: "two", B: "drift"}}}}
		assert.Equal(t, want, diffs)

		for _, s := range dbobserve.Sides {
			x := obs.Status(ctx, s)
			assert.True(t, x.Reachable && x.Healthy() && x.LastSQLErrno == 0, "side %s stays healthy: %+v", s, x)
		}

		db, err := obs.Final(ctx, dbobserve.FinalOptions{
			Converge: dbobserve.ConvergeOptions{Tables: []string{"t"}, Bound: time.Second, Applied: true},
			Messages: dbobserve.Messages{Table: "messages", ID: "msg_id"},
			RowDiffs: 10,
		})
		require.NoError(t, err)
		assert.False(t, db.Converged)
		assert.Equal(t, want, db.RowDiffs)
		require.Len(t, db.Sides, 2)
		for _, s := range db.Sides {
			assert.True(t, s.Reachable && s.IORunning && s.SQLRunning, "side %s: %+v", s.Name, s)
			assert.Equal(t, 2, s.AutoIncInc)
			assert.Equal(t, map[string]int{"m1": 2, "m2": 1}, s.Messages)
			assert.Contains(t, s.Checksums, "t")
		}
		assert.NotEqual(t, db.Sides[0].Checksums["t"], db.Sides[1].Checksums["t"])
	})
}

// An unreachable pair is reported side by side within the bounds, never a
// hang; a bad DSN names its side and does not quote the DSN.
func TestObserverUnreachableAndBadDSN(t *testing.T) {
	_, err := dbobserve.Open("not a dsn", "u:p@tcp(127.0.0.1:1)/x")
	var se *dbobserve.SideError
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, dbobserve.A, se.Side)

	o, err := dbobserve.Open("u:secret@tcp(127.0.0.1:1)/x", "u:secret@tcp(127.0.0.1:2)/x", dbobserve.WithReadTimeout(5*time.Second))
	require.NoError(t, err)
	defer o.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	x := o.Status(ctx, dbobserve.B)
	assert.False(t, x.Reachable)
	require.Error(t, x.Err)
	db, err := o.Final(ctx, dbobserve.FinalOptions{Converge: dbobserve.ConvergeOptions{Tables: []string{"t"}, Bound: 2 * time.Second, FailFast: true}})
	require.NoError(t, err)
	assert.False(t, db.Converged)
	require.Len(t, db.Sides, 2)
	for _, s := range db.Sides {
		assert.False(t, s.Reachable)
		assert.Contains(t, s.Err, "cannot read the server settings on side "+s.Name)
		assert.NotContains(t, s.Err, "secret")
	}
	lctx, lcancel := context.WithTimeout(ctx, time.Second)
	defer lcancel()
	_, err = o.Lag(lctx, dbobserve.A)
	require.Error(t, err)
}
