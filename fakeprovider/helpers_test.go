package fakeprovider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// user is one simulated client against a handler; it keeps the newest cookie
// like a browser does.
type user struct {
	t      *testing.T
	h      http.Handler
	host   string
	name   string
	cookie string
}

func newUser(t *testing.T, h http.Handler, host, name string) *user {
	return &user{t: t, h: h, host: host, name: name}
}

func (u *user) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	u.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, "http://"+u.host+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if u.cookie != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: u.cookie})
	}
	rec := httptest.NewRecorder()
	u.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == CookieName {
			u.cookie = c.Value
			if c.MaxAge < 0 {
				u.cookie = ""
			}
		}
	}
	return rec
}

func (u *user) login() *httptest.ResponseRecorder {
	u.t.Helper()
	rec := u.do("POST", "/login", url.Values{"user": {u.name}, "password": {DefaultPassword}})
	require.Equal(u.t, http.StatusOK, rec.Code, rec.Body.String())
	return rec
}

func (u *user) send(id, body string) *httptest.ResponseRecorder {
	return u.do("POST", "/messages", url.Values{"id": {id}, "to": {"bob"}, "body": {body}})
}

func newTestProvider(t *testing.T, cfg Config) *Provider {
	t.Helper()
	if cfg.ID == "" {
		cfg.ID = "p1"
	}
	if cfg.Tenants == nil {
		cfg.Tenants = []string{"abc.test", "def.test"}
	}
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	p, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

func startClearing(t *testing.T, id string) *Clearing {
	t.Helper()
	c := NewClearing(id)
	require.NoError(t, c.Start(context.Background(), "127.0.0.1:0"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

// replicatedPair is two memory stores joined by a replication link that the
// test controls: writes apply locally at once and reach the peer only on
// Flush, like master-master replication with lag (or a cut link, until Flush).
type replicatedPair struct {
	mu      sync.Mutex
	a, b    *MemoryStore
	pending []func(ctx context.Context) // in commit order
}

func newReplicatedPair() (*replicatedPair, Store, Store) {
	rp := &replicatedPair{a: NewMemoryStore(), b: NewMemoryStore()}
	return rp, &replicaSide{MemoryStore: rp.a, peer: rp.b, pair: rp}, &replicaSide{MemoryStore: rp.b, peer: rp.a, pair: rp}
}

// Flush applies every pending replicated write.
func (rp *replicatedPair) Flush(ctx context.Context) {
	rp.mu.Lock()
	ops := rp.pending
	rp.pending = nil
	rp.mu.Unlock()
	for _, op := range ops {
		op(ctx)
	}
}

type replicaSide struct {
	*MemoryStore
	peer *MemoryStore
	pair *replicatedPair
}

func (s *replicaSide) ship(op func(ctx context.Context)) {
	s.pair.mu.Lock()
	s.pair.pending = append(s.pair.pending, op)
	s.pair.mu.Unlock()
}

func (s *replicaSide) CreateSession(ctx context.Context, se Session) error {
	if err := s.MemoryStore.CreateSession(ctx, se); err != nil {
		return err
	}
	s.ship(func(ctx context.Context) { _ = s.peer.CreateSession(ctx, se) })
	return nil
}

func (s *replicaSide) RotateToken(ctx context.Context, tenant string, old, next Token) (bool, error) {
	ok, err := s.MemoryStore.RotateToken(ctx, tenant, old, next)
	if ok {
		s.ship(func(ctx context.Context) { _, _ = s.peer.RotateToken(ctx, tenant, old, next) })
	}
	return ok, err
}

func (s *replicaSide) RevokeSession(ctx context.Context, tenant, sid string) error {
	if err := s.MemoryStore.RevokeSession(ctx, tenant, sid); err != nil {
		return err
	}
	s.ship(func(ctx context.Context) { _ = s.peer.RevokeSession(ctx, tenant, sid) })
	return nil
}

func (s *replicaSide) PutMessage(ctx context.Context, m Message) (Message, bool, error) {
	got, created, err := s.MemoryStore.PutMessage(ctx, m)
	if created {
		s.ship(func(ctx context.Context) { _, _, _ = s.peer.PutMessage(ctx, got) })
	}
	return got, created, err
}

func (s *replicaSide) MarkCleared(ctx context.Context, tenant, id, by string) error {
	if err := s.MemoryStore.MarkCleared(ctx, tenant, id, by); err != nil {
		return err
	}
	s.ship(func(ctx context.Context) { _ = s.peer.MarkCleared(ctx, tenant, id, by) })
	return nil
}

// eventually waits for cond with a deadline instead of sleeping and hoping.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newRecorder(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
