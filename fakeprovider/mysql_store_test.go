package fakeprovider

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMySQLStore(t *testing.T) {
	m := startMariaDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	s1, err := NewMySQLStore(ctx, m.dsn("regify"), nil)
	require.NoError(t, err)
	defer s1.Close()
	s2, err := NewMySQLStore(ctx, m.dsn("regify"), nil) // schema creation is idempotent
	require.NoError(t, err)
	defer s2.Close()

	t.Run("store contract", func(t *testing.T) {
		tok := newSessionToken()
		require.NoError(t, s1.CreateSession(ctx, Session{Tenant: "abc.test", User: "alice", Token: tok, Created: time.Now().UTC()}))
		require.ErrorIs(t, s1.CreateSession(ctx, Session{Tenant: "abc.test", User: "x", Token: tok, Created: time.Now()}), ErrExists)
		_, err := s1.Session(ctx, "def.test", tok.SID)
		require.ErrorIs(t, err, ErrNotFound, "tenants isolated")
		next := tok.next()
		ok, err := s1.RotateToken(ctx, "abc.test", tok, next)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = s2.RotateToken(ctx, "abc.test", tok, tok.next())
		require.NoError(t, err)
		require.False(t, ok, "the old token lost the race")
		got, err := s2.Session(ctx, "abc.test", tok.SID)
		require.NoError(t, err)
		assert.Equal(t, next, got.Token)
		require.NoError(t, s2.RevokeSession(ctx, "abc.test", tok.SID))
		ok, err = s1.RotateToken(ctx, "abc.test", next, next.next())
		require.NoError(t, err)
		require.False(t, ok, "revoked sessions do not rotate")

		msg := Message{Tenant: "abc.test", ID: "m1", User: "alice", To: "bob", Body: "héllo 🙂", Created: time.Now().UTC()}
		got1, created, err := s1.PutMessage(ctx, msg)
		require.NoError(t, err)
		require.True(t, created)
		got2, created, err := s2.PutMessage(ctx, Message{Tenant: "abc.test", ID: "m1", User: "alice", Body: "other", Created: time.Now()})
		require.NoError(t, err)
		require.False(t, created)
		assert.Equal(t, got1.Body, got2.Body)
		require.NoError(t, s2.MarkCleared(ctx, "abc.test", "m1", "p2"))
		require.NoError(t, s2.MarkCleared(ctx, "abc.test", "m1", "p2"))
		require.ErrorIs(t, s2.MarkCleared(ctx, "abc.test", "nope", "p2"), ErrNotFound)
		gm, err2 := s1.Message(ctx, "abc.test", "m1")
		require.NoError(t, err2)
		assert.True(t, gm.Cleared)
		assert.Equal(t, "p2", gm.ClearedBy)
		inbox, err := s1.Inbox(ctx, "abc.test", "bob", 10)
		require.NoError(t, err)
		require.Len(t, inbox, 1)
		ids, err := ListMessageIDs(ctx, s1.DB())
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"abc.test/m1": 1}, ids)
	})

	t.Run("an insert answered too late is never committed", func(t *testing.T) {
		// Another transaction holds the message's unique key, so the
		// provider's insert waits on the server the way it would on a frozen
		// one; the provider gives up, then the key is released and the
		// server finishes the insert. Committed, it would be the row that
		// collides with the user's retry on the other master.
		root, err := sql.Open("mysql", m.dsn("regify"))
		require.NoError(t, err)
		defer root.Close()
		holder, err := root.Conn(ctx)
		require.NoError(t, err)
		defer holder.Close()
		_, err = holder.ExecContext(ctx, "BEGIN")
		require.NoError(t, err)
		_, err = holder.ExecContext(ctx, "INSERT INTO messages (tenant, msg_id, user, body, created) VALUES ('abc.test', 'late', 'bob', 'x', NOW())")
		require.NoError(t, err)

		pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, _, err = s1.PutMessage(pctx, Message{Tenant: "abc.test", ID: "late", User: "alice", Body: "hi", Created: time.Now().UTC()})
		pcancel()
		require.Error(t, err, "the insert waits on the held key past the deadline")

		_, err = holder.ExecContext(ctx, "ROLLBACK")
		require.NoError(t, err)
		// The server now finishes the abandoned insert; wait until no
		// thread runs it any more, then look.
		require.Eventually(t, func() bool {
			var n int
			err := root.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT IGNORE INTO messages%'").Scan(&n)
			return err == nil && n == 0
		}, 10*time.Second, 20*time.Millisecond)
		var rows int
		require.NoError(t, root.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages WHERE msg_id = 'late'").Scan(&rows))
		require.Zero(t, rows, "the abandoned insert was rolled back, not committed")
	})

	t.Run("two providers on one MySQL server share sessions", func(t *testing.T) {
		c := startClearing(t, "c1")
		p1 := newTestProvider(t, Config{ID: "p1", Store: s1, Clearing: []string{c.URL()}})
		p2 := newTestProvider(t, Config{ID: "p2", Store: s2, Clearing: []string{c.URL()}})
		u := newUser(t, p1.Handler(), "def.test", "carol")
		u.login()
		for i, p := range []*Provider{p2, p1, p2} {
			u.h = p.Handler()
			rec := u.send(fmt.Sprintf("mysql-%d", i), "x")
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			assert.Equal(t, p.ID(), rec.Header().Get(HeaderProvider))
		}
		old := u.cookie
		require.Equal(t, 200, u.do("GET", "/inbox", nil).Code)
		thief := newUser(t, p1.Handler(), "def.test", "carol")
		thief.cookie = old
		assert.Equal(t, http.StatusUnauthorized, thief.do("GET", "/inbox", nil).Code)
		assert.Equal(t, http.StatusUnauthorized, u.do("GET", "/inbox", nil).Code, "revoked on both")
		assert.Len(t, c.Counts(), 3)
	})

	t.Run("health turns 503 when the database goes away", func(t *testing.T) {
		p := newTestProvider(t, Config{Store: s1})
		u := newUser(t, p.Handler(), "abc.test", "")
		require.Equal(t, 200, u.do("GET", "/health", nil).Code)
		m.stop(t)
		require.Equal(t, http.StatusServiceUnavailable, u.do("GET", "/health", nil).Code)
		alice := newUser(t, p.Handler(), "abc.test", "alice")
		rec := alice.do("POST", "/login", map[string][]string{"user": {"alice"}, "password": {DefaultPassword}})
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	})
}

func TestNewMySQLStoreBadDSN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := NewMySQLStore(ctx, "not a dsn", nil)
	require.Error(t, err)
	_, err = NewMySQLStore(ctx, "root@tcp(127.0.0.1:1)/", nil)
	require.ErrorContains(t, err, "no database")
	_, err = NewMySQLStore(ctx, "root@tcp(127.0.0.1:1)/regify", nil)
	require.ErrorContains(t, err, "127.0.0.1:1")
}

// TestWriteDeadline: a write's server-side cut-off is the earlier of the
// caller's deadline and the driver's read timeout, so a statement a frozen
// server runs after it thaws is skipped once the provider stopped waiting.
func TestWriteDeadline(t *testing.T) {
	soon, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	late, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	tests := []struct {
		name        string
		ctx         context.Context
		readTimeout time.Duration
		want        time.Duration
	}{
		{"read timeout first", late, 2 * time.Second, 2 * time.Second},
		{"caller's deadline first", soon, 2 * time.Second, 500 * time.Millisecond},
		{"no deadline: read timeout", context.Background(), 2 * time.Second, 2 * time.Second},
		{"neither: the store timeout", context.Background(), 0, storeTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			got := (&MySQLStore{readTimeout: tc.readTimeout}).writeDeadline(tc.ctx)
			assert.Equal(t, time.UTC, got.Location())
			assert.WithinDuration(t, before.Add(tc.want), got, 100*time.Millisecond)
		})
	}
}

func TestTriggerWarning(t *testing.T) {
	cases := []struct {
		name   string
		logBin bool
		mode   string
		want   string
	}{
		{"no binary log: nothing replicates", false, "NO", ""},
		{"enforce", true, "ENFORCE", ""},
		{"enforce in lower case", true, "enforce", ""},
		{"yes skips events whose origin ran the trigger", true, "YES", "slave_run_triggers_for_rbr is YES, not ENFORCE"},
		{"no", true, "NO", "set slave_run_triggers_for_rbr = ENFORCE on both masters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := triggerWarning(tc.logBin, tc.mode)
			if tc.want == "" {
				require.Empty(t, got)
				return
			}
			require.Contains(t, got, tc.want)
		})
	}
}
