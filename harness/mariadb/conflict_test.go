package mariadb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/history"
)

// requireProviderRowsConverge changes one session row and one message row
// on both masters while neither applies the other's events (a frozen master
// finishing a write its provider gave up on, while the retry ran on the
// other master), then lets replication run again. The provider's triggers
// must bring both sides to the same rows; the same updates on a copy of the
// table without the trigger must leave the masters diverged, which is what
// the triggers are for.
func requireProviderRowsConverge(t *testing.T, ctx context.Context, p Pair) {
	a, b := openApp(t, ctx, p, A), openApp(t, ctx, p, B)
	require.NoError(t, fakeprovider.CreateSchema(ctx, a))
	_, err := a.ExecContext(ctx, "CREATE TABLE sessions_plain LIKE sessions")
	require.NoError(t, err)
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tbl := range []string{"sessions", "sessions_plain"} {
		_, err = a.ExecContext(ctx, "INSERT INTO "+tbl+" (tenant, sid, user, gen, secret, created) VALUES ('abc.test', 's1', 'u1', 1, 'secret1', ?)", created)
		require.NoError(t, err)
	}
	_, err = a.ExecContext(ctx, "INSERT INTO messages (tenant, msg_id, user, body, created) VALUES ('abc.test', 'm1', 'u1', 'hi', ?)", created)
	require.NoError(t, err)
	tables := []string{"sessions", "sessions_plain", "messages"}
	require.NoError(t, p.WaitConverged(ctx, tables, 20*time.Second))

	for _, s := range Sides {
		require.NoError(t, p.StopReplica(ctx, s))
	}
	exec := func(side Side, q string, args ...any) {
		t.Helper()
		db := a
		if side == B {
			db = b
		}
		res, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err, "side %s: %s", side, q)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "side %s changes one row: %s", side, q)
	}
	const rot = "UPDATE %s SET gen = ?, secret = ? WHERE sid = 's1' AND gen = ? AND secret = ?"
	for _, tbl := range []string{"sessions", "sessions_plain"} {
		// A finishes the rotation 1 → 2 its provider gave up on; B served
		// the retry (1 → 2) and the user's next request (2 → 3).
		exec(A, fmt.Sprintf(rot, tbl), 2, "secretA2", 1, "secret1")
		exec(B, fmt.Sprintf(rot, tbl), 2, "secretB2", 1, "secret1")
		exec(B, fmt.Sprintf(rot, tbl), 3, "secretB3", 2, "secretB2")
	}
	// Both providers recorded a clearing of the same message.
	exec(A, "UPDATE messages SET cleared_by = 'p2' WHERE msg_id = 'm1'")
	exec(B, "UPDATE messages SET cleared_by = 'p1' WHERE msg_id = 'm1'")
	for _, s := range Sides {
		require.NoError(t, p.StartReplica(ctx, s))
	}

	require.NoError(t, p.WaitConverged(ctx, []string{"sessions", "messages"}, 30*time.Second),
		"the provider's triggers must make both masters agree")
	for _, s := range Sides {
		db := a
		if s == B {
			db = b
		}
		var gen int
		var secret string
		require.NoError(t, db.QueryRowContext(ctx, "SELECT gen, secret FROM sessions WHERE sid = 's1'").Scan(&gen, &secret))
		require.Equal(t, 3, gen, "side %s keeps the newest token", s)
		require.Equal(t, "secretB3", secret, "side %s keeps the newest token", s)
		var by string
		require.NoError(t, db.QueryRowContext(ctx, "SELECT cleared_by FROM messages WHERE msg_id = 'm1'").Scan(&by))
		require.Equal(t, "p1", by, "side %s keeps one clearing", s)
	}
	err = p.WaitConverged(ctx, []string{"sessions_plain"}, 3*time.Second)
	require.Error(t, err, "without the trigger row-based replication swaps the two versions")
	diffs, err := dbobserve.New(a, b).DiffRows(ctx, []string{"sessions", "sessions_plain"}, 10)
	require.NoError(t, err)
	require.Len(t, diffs, 1, "only the table without the trigger differs, in one row: %+v", diffs)
	require.Equal(t, "sessions_plain", diffs[0].Table)
	require.Empty(t, diffs[0].Missing)
	require.Equal(t, []history.ColumnDiff{{Name: "gen", A: "3", B: "2"}, {Name: "secret", A: "secretB3", B: "secretA2"}}, diffs[0].Columns,
		"each side holds the other's last version")
	st, err := p.Status(ctx)
	require.NoError(t, err)
	require.True(t, st.Healthy(), "conflicting updates do not stop replication: %s", describe(st, nil))
}
