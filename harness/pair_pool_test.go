package harness

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/harness/mariadb"
)

// TestPairPool: a pair put back is emptied and handed out again; one a
// scenario left broken (a replica stopped) is closed and replaced; a
// negative control's pair is never kept.
func TestPairPool(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up MariaDB pairs; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pool := NewPairPool(nil)
	t.Cleanup(func() { _ = pool.Close(context.Background()) })
	o := PairOptions{Backend: testBackend()}

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

	// A scenario that leaves a replica stopped gets its pair closed.
	require.NoError(t, again.StopReplica(ctx, "b"))
	require.NoError(t, pool.Put(ctx, again))
	fresh, err := pool.Get(ctx, o, nil)
	require.NoError(t, err)
	assert.NotSame(t, again, fresh, "a broken pair is not reused")
	require.NoError(t, pool.Put(ctx, fresh))

	started, reused, discarded := pool.Stats()
	assert.Equal(t, [3]int{2, 1, 1}, [3]int{started, reused, discarded})

	// Warming starts pairs ahead, one after the other, and keeps them.
	warm := NewPairPool(nil)
	t.Cleanup(func() { _ = warm.Close(context.Background()) })
	require.NoError(t, warm.Warm(ctx, o, []string{"127.0.5.1", "127.1.5.1"}, nil))
	started, reused, _ = warm.Stats()
	assert.Equal(t, [2]int{2, 0}, [2]int{started, reused})
	p1, err := warm.Get(ctx, o, nil)
	require.NoError(t, err)
	p2, err := warm.Get(ctx, o, nil)
	require.NoError(t, err)
	started, reused, _ = warm.Stats()
	assert.Equal(t, [2]int{2, 2}, [2]int{started, reused}, "both scenarios found a warm pair")
	require.NoError(t, warm.Put(ctx, p1))
	require.NoError(t, warm.Put(ctx, p2))
	assert.False(t, PairOptions{EqualAutoIncrement: true}.Reusable(), "a negative control's pair is never kept")

	// Expect starts in the background what the scenarios to come will
	// not find idle: here one usual pair and a negative control's own.
	ahead := NewPairPool(nil)
	t.Cleanup(func() { _ = ahead.Close(context.Background()) })
	mixed := o
	mixed.MixedBinlog = true
	ahead.Expect(ctx, []PairOptions{o, mixed}, 1, "127.0.5.1", nil)
	require.NoError(t, ahead.Settle(ctx))
	started, _, _ = ahead.Stats()
	require.Equal(t, 2, started, "both pairs come up before any scenario asks")
	neg, err := ahead.Get(ctx, mixed, nil)
	require.NoError(t, err)
	usual, err := ahead.Get(ctx, o, nil)
	require.NoError(t, err)
	started, reused, _ = ahead.Stats()
	assert.Equal(t, [2]int{2, 2}, [2]int{started, reused}, "each scenario found its pair up")
	st, err := neg.Observer().Settings(ctx, mariadb.A)
	require.NoError(t, err)
	assert.Equal(t, "MIXED", st.BinlogFormat, "the negative control got its own wrong pair")
	require.NoError(t, ahead.Put(ctx, neg))
	require.NoError(t, ahead.Put(ctx, usual))
	started, _, _ = ahead.Stats()
	assert.Equal(t, 2, started, "nothing more is started once the demand is met")
}
