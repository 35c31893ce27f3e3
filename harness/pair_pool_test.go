package harness

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/harness/mariadb"
)

// TestPairPool: a pair put back is emptied and handed out again; what a
// pair can take back (a stopped replica, MASTER_DELAY, a duplicate key, a
// killed master) is repaired; a negative control gets an idle pair shaped
// into its wrong settings, which come back as they were; a pair whose
// settings changed otherwise is closed and replaced.
func TestPairPool(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up MariaDB pairs; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pool := NewPairPool(nil)
	t.Cleanup(func() { _ = pool.Close(context.Background()) })
	o := PairOptions{Backend: testBackend()}
	stats := func() [4]int {
		started, reused, shaped, discarded := pool.Stats()
		return [4]int{started, reused, shaped, discarded}
	}

	first, err := pool.Get(ctx, o, nil)
	require.NoError(t, err)
	// Written on b and put back at once: the write is still on its way
	// to a when the pool empties the tables, and must not land after.
	dsn, err := first.DSN(ctx, "b")
	require.NoError(t, err)
	store, err := fakeprovider.NewMySQLStore(ctx, dsn, nil)
	require.NoError(t, err)
	require.NoError(t, store.CreateSession(ctx, fakeprovider.Session{Tenant: "abc.test", User: "u1", Created: time.Now(),
		Token: fakeprovider.Token{SID: "0123456789abcdef0123456789abcdef", Gen: 1, Secret: "fedcba9876543210fedcba9876543210"}}))
	require.NoError(t, store.Close())
	require.NoError(t, pool.Put(ctx, first))

	again, err := pool.Get(ctx, o, nil)
	require.NoError(t, err)
	assert.Same(t, first, again, "the pair put back is handed out again")
	tables, err := again.tables(ctx, mariadb.A)
	require.NoError(t, err)
	assert.Contains(t, tables, "`regify`.`sessions`")
	left, err := again.rowsLeft(ctx, tables)
	require.NoError(t, err)
	assert.Empty(t, left, "every table is empty on both masters")

	// A replica left stopped and one left late are repaired.
	require.NoError(t, again.StopReplica(ctx, "b"))
	require.NoError(t, again.SetReplicationDelay(ctx, "a", 2*time.Second))
	require.NoError(t, pool.Put(ctx, again))
	repaired, err := pool.Get(ctx, o, nil)
	require.NoError(t, err)
	assert.Same(t, again, repaired, "a stopped or delayed replica is repaired, not a reason for a new pair")
	st, err := repaired.Status(ctx)
	require.NoError(t, err)
	assert.True(t, st.Healthy(), "replication runs both ways again: %+v", st.Sides)
	for _, x := range st.Sides {
		assert.Zero(t, x.SQLDelay, "master %s applies without delay", x.Side)
	}
	require.NoError(t, pool.Put(ctx, repaired))

	// Negative controls get the idle pair shaped into their wrong
	// settings, and give it back as it was.
	usual := [2]string{"ROW", "ENFORCE"}
	shapes := []struct {
		name  string
		o     PairOptions
		check func(t *testing.T, p *Pair)
	}{
		{"mixed binlog", PairOptions{MixedBinlog: true}, func(t *testing.T, p *Pair) {
			for _, s := range mariadb.Sides {
				assert.Equal(t, "MIXED", variable(t, p, s, "binlog_format"), "master %s", s)
				st, err := p.Observer().Settings(ctx, s)
				require.NoError(t, err)
				assert.Equal(t, "MIXED", st.BinlogFormat, "master %s as the invariant reads it", s)
			}
		}},
		{"no replica triggers", PairOptions{NoReplicaTriggers: true}, func(t *testing.T, p *Pair) {
			for _, s := range mariadb.Sides {
				assert.Equal(t, "NO", variable(t, p, s, "slave_run_triggers_for_rbr"), "master %s", s)
			}
		}},
		{"equal auto-increment", PairOptions{EqualAutoIncrement: true}, func(t *testing.T, p *Pair) {
			for _, s := range mariadb.Sides {
				assert.Equal(t, "1", variable(t, p, s, "auto_increment_offset"), "master %s", s)
				st, err := p.Observer().Settings(ctx, s)
				require.NoError(t, err)
				assert.Equal(t, 1, st.AutoIncrementOffset, "master %s as the invariant reads it", s)
			}
		}},
		{"one way", PairOptions{OneWay: true}, func(t *testing.T, p *Pair) {
			st, err := p.Status(ctx)
			require.NoError(t, err)
			assert.False(t, st.Sides[mariadb.A].SQLRunning, "a does not replicate from b")
			assert.True(t, st.Sides[mariadb.B].SQLRunning, "b replicates from a")
		}},
	}
	for _, c := range shapes {
		t.Run(c.name, func(t *testing.T) {
			c.o.Backend = o.Backend
			before := stats()
			neg, err := pool.Get(ctx, c.o, nil)
			require.NoError(t, err)
			assert.Same(t, first, neg, "the idle pair is shaped, no pair is started")
			assert.Equal(t, c.o, neg.opts)
			c.check(t, neg)
			require.NoError(t, pool.Put(ctx, neg))
			back, err := pool.Get(ctx, o, nil)
			require.NoError(t, err)
			assert.Same(t, first, back, "the shaped pair goes back to the pool")
			for _, s := range mariadb.Sides {
				assert.Equal(t, usual, [2]string{variable(t, back, s, "binlog_format"), variable(t, back, s, "slave_run_triggers_for_rbr")}, "master %s", s)
				assert.Equal(t, fmt.Sprint(int(s)+1), variable(t, back, s, "auto_increment_offset"), "master %s", s)
			}
			st, err := back.Status(ctx)
			require.NoError(t, err)
			assert.True(t, st.Healthy(), "replication runs both ways again: %+v", st.Sides)
			require.NoError(t, pool.Put(ctx, back))
			after := stats()
			assert.Equal(t, [4]int{before[0], before[1] + 2, before[2] + 1, before[3]}, after, "one shaped reuse and one usual reuse")
		})
	}

	// A replica stopped on a duplicate key skips what it cannot apply,
	// and a killed master is started again: the pair is reused.
	dup, err := pool.Get(ctx, o, nil)
	require.NoError(t, err)
	const row = "INSERT INTO messages (tenant, msg_id, user, to_user, body, created) VALUES ('abc.test', 'dup', 'u1', 'u2', 'x', NOW())"
	require.NoError(t, dup.WriteUnlogged(ctx, "b", row))
	dbA, err := dup.Observer().DB(ctx, mariadb.A)
	require.NoError(t, err)
	_, err = dbA.ExecContext(ctx, strings.Replace(row, "INTO messages", "INTO regify.messages", 1))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := dup.Status(ctx)
		return err == nil && st.Sides[mariadb.B].LastSQLErrno == 1062
	}, 10*time.Second, 50*time.Millisecond, "the write replicated from a stops b on a duplicate key")
	require.NoError(t, dup.Kill(ctx, "a"))
	require.NoError(t, pool.Put(ctx, dup))
	mended, err := pool.Get(ctx, o, nil)
	require.NoError(t, err)
	assert.Same(t, dup, mended, "a duplicate key and a killed master are repaired")
	st, err = mended.Status(ctx)
	require.NoError(t, err)
	assert.True(t, st.Healthy(), "replication runs both ways again: %+v", st.Sides)
	left, err = mended.rowsLeft(ctx, tables)
	require.NoError(t, err)
	assert.Empty(t, left, "every table is empty on both masters")

	// What the pool does not restore (a server id changed) closes the
	// pair, and the next scenario gets a fresh one.
	dbB, err := mended.Observer().DB(ctx, mariadb.B)
	require.NoError(t, err)
	_, err = dbB.ExecContext(ctx, "SET GLOBAL server_id = 9")
	require.NoError(t, err)
	require.NoError(t, pool.Put(ctx, mended))
	fresh, err := pool.Get(ctx, o, nil)
	require.NoError(t, err)
	assert.NotSame(t, mended, fresh, "a pair whose settings changed is not reused")
	require.NoError(t, pool.Put(ctx, fresh))
	assert.Equal(t, 2, stats()[0], "two pairs started in all")
	assert.Equal(t, 1, stats()[3], "one discarded")

	// Warming starts pairs ahead, one after the other, and keeps them.
	warm := NewPairPool(nil)
	t.Cleanup(func() { _ = warm.Close(context.Background()) })
	require.NoError(t, warm.Warm(ctx, o, []string{"127.0.5.1", "127.1.5.1"}, nil))
	started, reused, _, _ := warm.Stats()
	assert.Equal(t, [2]int{2, 0}, [2]int{started, reused})
	p1, err := warm.Get(ctx, o, nil)
	require.NoError(t, err)
	p2, err := warm.Get(ctx, o, nil)
	require.NoError(t, err)
	started, reused, _, _ = warm.Stats()
	assert.Equal(t, [2]int{2, 2}, [2]int{started, reused}, "both scenarios found a warm pair")
	require.NoError(t, warm.Put(ctx, p1))
	require.NoError(t, warm.Put(ctx, p2))
	assert.False(t, PairOptions{EqualAutoIncrement: true}.Reusable(), "a negative control's pair is never kept as it is")
}

// variable reads a global server variable of side s.
func variable(t *testing.T, p *Pair, s mariadb.Side, name string) string {
	t.Helper()
	db, err := p.Observer().DB(context.Background(), s)
	require.NoError(t, err)
	var v string
	require.NoError(t, db.QueryRow("SELECT @@global."+name).Scan(&v))
	return v
}
