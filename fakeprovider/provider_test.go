package fakeprovider

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCookieRotatesOnEveryAuthenticatedResponse(t *testing.T) {
	p := newTestProvider(t, Config{})
	u := newUser(t, p.Handler(), "abc.test", "alice")
	rec := u.login()
	seen := map[string]bool{u.cookie: true}

	c := rec.Result().Cookies()[0]
	assert.True(t, c.Secure, "Secure")
	assert.True(t, c.HttpOnly, "HttpOnly")
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.Equal(t, "/", c.Path)

	steps := []struct {
		name, method, path string
		form               url.Values
		want               int
	}{
		{"inbox", "GET", "/inbox", nil, 200},
		{"send", "POST", "/messages", url.Values{"id": {"m1"}, "to": {"bob"}, "body": {"hi"}}, 201},
		{"send again", "POST", "/messages", url.Values{"id": {"m1"}, "to": {"bob"}, "body": {"hi"}}, 200},
		{"read", "GET", "/messages/m1", nil, 200},
		{"missing", "GET", "/messages/nope", nil, 404},
		{"inbox again", "GET", "/inbox", nil, 200},
	}
	for _, st := range steps {
		before := u.cookie
		rec := u.do(st.method, st.path, st.form)
		require.Equal(t, st.want, rec.Code, "%s: %s", st.name, rec.Body.String())
		require.NotEqual(t, before, u.cookie, "%s: cookie must rotate", st.name)
		require.False(t, seen[u.cookie], "%s: token reused", st.name)
		seen[u.cookie] = true
		assert.Equal(t, "p1", rec.Header().Get(HeaderProvider), st.name)
		assert.Equal(t, "abc.test", rec.Header().Get(HeaderTenant), st.name)
		assert.Equal(t, "alice", rec.Header().Get(HeaderUser), st.name)
	}
	inbox := decode[inboxJSON](t, u.do("GET", "/inbox", nil))
	require.Len(t, inbox.Messages, 1)
	assert.Equal(t, "m1", inbox.Messages[0].ID)

	rec = u.do("POST", "/logout", nil)
	require.Equal(t, 200, rec.Code)
	assert.Empty(t, u.cookie, "logout expires the cookie")
}

func TestOutdatedTokenRevokesWholeSession(t *testing.T) {
	p := newTestProvider(t, Config{})
	victim := newUser(t, p.Handler(), "abc.test", "alice")
	victim.login()
	stolen := victim.cookie
	require.Equal(t, 200, victim.do("GET", "/inbox", nil).Code)

	thief := newUser(t, p.Handler(), "abc.test", "alice")
	thief.cookie = stolen
	rec := thief.do("GET", "/inbox", nil)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, ReasonOutdated, rec.Header().Get(HeaderReason))
	assert.Empty(t, rec.Header().Get("Set-Cookie"))

	// The newest token dies with the session: the hijack ended it for everyone.
	rec = victim.do("GET", "/inbox", nil)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, ReasonRevoked, rec.Header().Get(HeaderReason))
}

func TestUnauthenticatedRequests(t *testing.T) {
	p := newTestProvider(t, Config{})
	tests := []struct {
		name, cookie, reason string
	}{
		{"no cookie", "", ReasonNoCookie},
		{"garbage", "garbage", ReasonMalformed},
		{"oversized", strings.Repeat("a", 4000), ReasonMalformed},
		{"unknown session", newSessionToken().String(), ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser(t, p.Handler(), "abc.test", "x")
			u.cookie = tt.cookie
			rec := u.do("GET", "/inbox", nil)
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Equal(t, tt.reason, rec.Header().Get(HeaderReason))
			assert.Equal(t, "p1", rec.Header().Get(HeaderProvider))
		})
	}
	u := newUser(t, p.Handler(), "abc.test", "alice")
	rec := u.do("POST", "/login", url.Values{"user": {"alice"}, "password": {"wrong"}})
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Empty(t, u.cookie)
}

func TestTenantsAreIsolated(t *testing.T) {
	p := newTestProvider(t, Config{})
	abc := newUser(t, p.Handler(), "abc.test", "alice")
	abc.login()
	require.Equal(t, 201, abc.send("m1", "for abc").Code)

	t.Run("unknown host gets 421", func(t *testing.T) {
		for _, host := range []string{"ghi.test", "127.0.2.1:9001", "abc.test.evil"} {
			u := newUser(t, p.Handler(), host, "alice")
			u.cookie = abc.cookie
			for _, path := range []string{"/inbox", "/login", "/messages/m1"} {
				rec := u.do("GET", path, nil)
				assert.Equal(t, http.StatusMisdirectedRequest, rec.Code, host+path)
				assert.NotContains(t, rec.Body.String(), "for abc")
				assert.Empty(t, rec.Header().Get(HeaderTenant))
			}
		}
	})
	t.Run("host case and port do not matter", func(t *testing.T) {
		u := newUser(t, p.Handler(), "ABC.test.:8443", "alice")
		u.cookie = abc.cookie
		rec := u.do("GET", "/messages/m1", nil)
		require.Equal(t, 200, rec.Code, rec.Body.String())
		assert.Equal(t, "abc.test", rec.Header().Get(HeaderTenant))
		abc.cookie = u.cookie
	})
	t.Run("a session of abc.test is unknown on def.test", func(t *testing.T) {
		def := newUser(t, p.Handler(), "def.test", "alice")
		def.cookie = abc.cookie
		rec := def.do("GET", "/inbox", nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, ReasonUnknown, rec.Header().Get(HeaderReason))
		assert.Equal(t, "def.test", rec.Header().Get(HeaderTenant))
		// and it did not hurt the abc session
		require.Equal(t, 200, abc.do("GET", "/inbox", nil).Code)
	})
	t.Run("message ids are per tenant", func(t *testing.T) {
		def := newUser(t, p.Handler(), "def.test", "alice")
		def.login()
		require.Equal(t, 404, def.do("GET", "/messages/m1", nil).Code)
		require.Equal(t, 201, def.send("m1", "for def").Code)
		m := decode[Message](t, def.do("GET", "/messages/m1", nil))
		assert.Equal(t, "for def", m.Body)
		m = decode[Message](t, abc.do("GET", "/messages/m1", nil))
		assert.Equal(t, "for abc", m.Body)
	})
	t.Run("another user's id conflicts", func(t *testing.T) {
		mallory := newUser(t, p.Handler(), "abc.test", "mallory")
		mallory.login()
		assert.Equal(t, http.StatusConflict, mallory.send("m1", "overwrite").Code)
		assert.Equal(t, 404, mallory.do("GET", "/messages/m1", nil).Code)
	})
}

func TestSessionAcrossProvidersFollowsReplication(t *testing.T) {
	t.Run("shared store: session moves freely", func(t *testing.T) {
		store := NewMemoryStore()
		p1 := newTestProvider(t, Config{ID: "p1", Store: store})
		p2 := newTestProvider(t, Config{ID: "p2", Store: store})
		u := newUser(t, p1.Handler(), "abc.test", "alice")
		u.login()
		for i, p := range []*Provider{p2, p1, p2, p2, p1} {
			u.h = p.Handler()
			rec := u.do("GET", "/inbox", nil)
			require.Equal(t, 200, rec.Code, "step %d", i)
			assert.Equal(t, p.ID(), rec.Header().Get(HeaderProvider))
		}
	})
	t.Run("replicated in time: session continues", func(t *testing.T) {
		pair, s1, s2 := newReplicatedPair()
		p1 := newTestProvider(t, Config{ID: "p1", Store: s1})
		p2 := newTestProvider(t, Config{ID: "p2", Store: s2})
		u := newUser(t, p1.Handler(), "abc.test", "alice")
		u.login()
		require.Equal(t, 200, u.do("GET", "/inbox", nil).Code)
		pair.Flush(context.Background())
		u.h = p2.Handler()
		require.Equal(t, 200, u.do("GET", "/inbox", nil).Code)
		pair.Flush(context.Background())
		u.h = p1.Handler()
		require.Equal(t, 200, u.do("GET", "/inbox", nil).Code)
	})
	t.Run("not replicated: login unknown on the other provider", func(t *testing.T) {
		_, s1, s2 := newReplicatedPair()
		p1 := newTestProvider(t, Config{ID: "p1", Store: s1})
		p2 := newTestProvider(t, Config{ID: "p2", Store: s2})
		u := newUser(t, p1.Handler(), "abc.test", "alice")
		u.login()
		u.h = p2.Handler()
		rec := u.do("GET", "/inbox", nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, ReasonUnknown, rec.Header().Get(HeaderReason))
	})
	t.Run("newest token not replicated: 401, and the session lives on where it is known", func(t *testing.T) {
		pair, s1, s2 := newReplicatedPair()
		p1 := newTestProvider(t, Config{ID: "p1", Store: s1})
		p2 := newTestProvider(t, Config{ID: "p2", Store: s2})
		u := newUser(t, p1.Handler(), "abc.test", "alice")
		u.login()
		pair.Flush(context.Background()) // the login replicated …
		require.Equal(t, 200, u.do("GET", "/inbox", nil).Code)
		// … but not the rotation: p2 still holds the login token.
		u.h = p2.Handler()
		rec := u.do("GET", "/inbox", nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, ReasonAhead, rec.Header().Get(HeaderReason))
		pair.Flush(context.Background()) // nothing was written on p2 to replicate
		u.h = p1.Handler()
		require.Equal(t, 200, u.do("GET", "/inbox", nil).Code, "not revoked: the newest token still works where it is known")
		pair.Flush(context.Background())
		u.h = p2.Handler()
		require.Equal(t, 200, u.do("GET", "/inbox", nil).Code, "and on p2 once the rotation has replicated")
	})
}

func TestBrokenModes(t *testing.T) {
	t.Run("NoRotate", func(t *testing.T) {
		p := newTestProvider(t, Config{Broken: Broken{NoRotate: true}})
		u := newUser(t, p.Handler(), "abc.test", "alice")
		u.login()
		first := u.cookie
		for range 3 {
			rec := u.do("GET", "/inbox", nil)
			require.Equal(t, 200, rec.Code)
			assert.Empty(t, rec.Header().Get("Set-Cookie"))
		}
		assert.Equal(t, first, u.cookie)
	})
	t.Run("OldTokensValid", func(t *testing.T) {
		p := newTestProvider(t, Config{Broken: Broken{OldTokensValid: true}})
		u := newUser(t, p.Handler(), "abc.test", "alice")
		u.login()
		old := u.cookie
		require.Equal(t, 200, u.do("GET", "/inbox", nil).Code)
		require.NotEqual(t, old, u.cookie, "still rotates")
		thief := newUser(t, p.Handler(), "abc.test", "alice")
		thief.cookie = old
		require.Equal(t, 200, thief.do("GET", "/inbox", nil).Code)
	})
	t.Run("NoProviderHeader", func(t *testing.T) {
		p := newTestProvider(t, Config{Broken: Broken{NoProviderHeader: true}})
		u := newUser(t, p.Handler(), "abc.test", "alice")
		rec := u.login()
		assert.Empty(t, rec.Header().Get(HeaderProvider))
		assert.Equal(t, "abc.test", rec.Header().Get(HeaderTenant))
	})
	t.Run("SingleClearing", func(t *testing.T) {
		first, second := startClearing(t, "c1"), startClearing(t, "c2")
		first.SetFailing(true)
		p := newTestProvider(t, Config{Clearing: []string{first.URL(), second.URL()}, Broken: Broken{SingleClearing: true}})
		u := newUser(t, p.Handler(), "abc.test", "alice")
		u.login()
		require.Equal(t, http.StatusCreated, u.send("m1", "hi").Code, "acknowledged although uncleared")
		assert.Zero(t, second.Counts()[MessageKey("abc.test", "m1")], "no failover to the redundant clearing")
	})
	t.Run("HealthIgnoresStore", func(t *testing.T) {
		store := NewMemoryStore()
		p := newTestProvider(t, Config{Store: store, Broken: Broken{HealthIgnoresStore: true}})
		store.SetDown(true)
		assert.Equal(t, 200, newUser(t, p.Handler(), "abc.test", "").do("GET", "/health", nil).Code)
	})
}

func TestHealthFollowsTheStore(t *testing.T) {
	store := NewMemoryStore()
	p := newTestProvider(t, Config{Store: store})
	// A balancer may probe with an internal IP as Host: health ignores the host.
	u := newUser(t, p.Handler(), "127.0.2.1:9001", "")
	require.Equal(t, 200, u.do("GET", "/health", nil).Code)
	store.SetDown(true)
	rec := u.do("GET", "/health", nil)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "p1", rec.Header().Get(HeaderProvider))
	alice := newUser(t, p.Handler(), "abc.test", "alice")
	assert.Equal(t, http.StatusServiceUnavailable, alice.do("POST", "/login", url.Values{"user": {"alice"}, "password": {DefaultPassword}}).Code)
	store.SetDown(false)
	require.Equal(t, 200, u.do("GET", "/health", nil).Code)
}

func TestSeen(t *testing.T) {
	p := newTestProvider(t, Config{ShowSeen: true})
	req, err := http.NewRequest("GET", "http://abc.test/debug/seen", nil)
	require.NoError(t, err)
	req.RemoteAddr = "127.0.1.1:40000"
	req.Header.Set("X-Forwarded-For", "127.0.10.7")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "abc.test")
	req.Header.Set("Forwarded", "for=127.0.10.7;proto=https")
	rec := newRecorder(p.Handler(), req)
	require.Equal(t, 200, rec.Code)
	want := Seen{RemoteAddr: "127.0.1.1:40000", XForwardedFor: "127.0.10.7", XForwardedProto: "https",
		XForwardedHost: "abc.test", Forwarded: "for=127.0.10.7;proto=https"}
	assert.Equal(t, want, decode[Seen](t, rec))
	assert.JSONEq(t, `{"remote_addr":"127.0.1.1:40000","x_forwarded_for":"127.0.10.7","x_forwarded_proto":"https","x_forwarded_host":"abc.test","forwarded":"for=127.0.10.7;proto=https","tls":false}`,
		rec.Header().Get(HeaderSeen))

	quiet := newTestProvider(t, Config{})
	assert.Empty(t, newRecorder(quiet.Handler(), req).Header().Get(HeaderSeen))
}
