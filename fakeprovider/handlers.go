package fakeprovider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"
)

// Limits of what a client may send; more is refused with 4xx.
const (
	maxFormBytes = 64 << 10
	maxBodyLen   = 16 << 10
	maxUserLen   = 64
	maxIDLen     = 128
	inboxLimit   = 50
	storeTimeout = 5 * time.Second
	healthWait   = time.Second
)

// Header names of the contract.
const (
	HeaderProvider = "X-Regify-Provider"
	HeaderTenant   = "X-Regify-Tenant"
	HeaderUser     = "X-Regify-User"
	HeaderSeen     = "X-Regify-Seen"
	HeaderReason   = "X-Regify-Reason" // why a request was refused with 401
)

// Reasons of a 401, in X-Regify-Reason and the JSON body.
const (
	ReasonNoCookie  = "no_cookie"
	ReasonMalformed = "malformed_cookie"
	ReasonUnknown   = "unknown_session"
	ReasonRevoked   = "revoked"
	ReasonOutdated  = "outdated_token" // older than the newest: a hijack attempt, session revoked
	ReasonAhead     = "token_ahead"    // newer than this provider's database: not replicated yet; refused, not revoked
	ReasonRaced     = "token_raced"    // rotated by a concurrent request with the same token, session revoked
	ReasonPassword  = "bad_password"
)

type tenantKey struct{}

func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("GET /inbox", p.flaky(p.authed(p.inbox)))
	mux.HandleFunc("POST /messages", p.authed(p.send))
	mux.HandleFunc("GET /messages/{id}", p.authed(p.message))
	mux.HandleFunc("POST /logout", p.authed(p.logout))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if !p.cfg.Broken.NoProviderHeader {
			h.Set(HeaderProvider, p.cfg.ID)
		}
		seen := SeenOf(r)
		if p.cfg.ShowSeen {
			h.Set(HeaderSeen, seen.HeaderValue())
		}
		tenant, known := p.tenants[normalizeHost(r.Host)]
		if known {
			h.Set(HeaderTenant, tenant)
		}
		// Health and debug are for balancers and the harness, which may use
		// an internal IP as Host; they show no tenant's data.
		switch r.URL.Path {
		case "/health":
			p.health(w, r)
			return
		case "/debug/seen":
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				writeJSON(w, http.StatusMethodNotAllowed, errBody("use GET"))
				return
			}
			writeJSON(w, http.StatusOK, seen)
			return
		}
		if !known {
			writeJSON(w, http.StatusMisdirectedRequest, errBody("this provider does not serve host "+clip(r.Host)))
			return
		}
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tenantKey{}, tenant)))
	})
}

// flaky fails every Broken.FailEvery-th request of h with a 500, before
// h sees it (the negative control of availability).
func (p *Provider) flaky(h http.HandlerFunc) http.HandlerFunc {
	n := int64(p.cfg.Broken.FailEvery)
	if n <= 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if p.inboxes.Add(1)%n == 0 {
			writeJSON(w, http.StatusInternalServerError, errBody("internal error (deliberate: Broken.FailEvery)"))
			return
		}
		h(w, r)
	}
}

func tenantOf(r *http.Request) string { t, _ := r.Context().Value(tenantKey{}).(string); return t }

type errorJSON struct {
	Error  string `json:"error"`
	Reason string `json:"reason,omitempty"`
}

func errBody(msg string) errorJSON { return errorJSON{Error: msg} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do about it
}

// storeFailed answers a database error: 503, the request may be retried.
func (p *Provider) storeFailed(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.log.Debug("store failed", "what", what, "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusServiceUnavailable, errBody("database unavailable while "+what))
}

func (p *Provider) unauthorized(w http.ResponseWriter, reason, msg string) {
	w.Header().Set(HeaderReason, reason)
	writeJSON(w, http.StatusUnauthorized, errorJSON{Error: msg, Reason: reason})
}

func (p *Provider) setCookie(w http.ResponseWriter, t Token) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: t.String(), Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// parseForm reads a bounded urlencoded form; false means a 4xx was written.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errBody("form larger than 64 KiB"))
			return false
		}
		writeJSON(w, http.StatusBadRequest, errBody("malformed form: "+clip(err.Error())))
		return false
	}
	return true
}

// validName accepts 1..max printable ASCII characters without spaces.
func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	user, pass := r.PostForm.Get("user"), r.PostForm.Get("password")
	if !validName(user, maxUserLen) {
		writeJSON(w, http.StatusBadRequest, errBody("user must be 1–64 printable ASCII characters"))
		return
	}
	if pass != p.cfg.Password {
		p.unauthorized(w, ReasonPassword, "wrong password")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	s := Session{Tenant: tenantOf(r), User: user, Token: newSessionToken(), Created: time.Now().UTC()}
	if err := p.cfg.Store.CreateSession(ctx, s); err != nil {
		p.storeFailed(w, r, "creating a session", err)
		return
	}
	p.setCookie(w, s.Token)
	w.Header().Set(HeaderUser, user)
	writeJSON(w, http.StatusOK, map[string]string{"user": user, "tenant": s.Tenant, "provider": p.cfg.ID})
}

// authed checks the session cookie, rotates it and passes the session on.
func (p *Provider) authed(next func(http.ResponseWriter, *http.Request, Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := p.authenticate(w, r)
		if ok {
			next(w, r, s)
		}
	}
}

func (p *Provider) authenticate(w http.ResponseWriter, r *http.Request) (Session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		p.unauthorized(w, ReasonNoCookie, "no session cookie; log in")
		return Session{}, false
	}
	tok, err := ParseToken(c.Value)
	if err != nil {
		p.unauthorized(w, ReasonMalformed, "malformed session cookie; log in")
		return Session{}, false
	}
	tenant := tenantOf(r)
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	s, err := p.cfg.Store.Session(ctx, tenant, tok.SID)
	if errors.Is(err, ErrNotFound) {
		p.unauthorized(w, ReasonUnknown, "unknown session; log in")
		return Session{}, false
	}
	if err != nil {
		p.storeFailed(w, r, "reading the session", err)
		return Session{}, false
	}
	if s.Revoked {
		p.unauthorized(w, ReasonRevoked, "session revoked; log in")
		return Session{}, false
	}
	if s.Token != tok && !p.cfg.Broken.OldTokensValid {
		if tok.Gen > s.Token.Gen {
			// This database is behind: the rotation has not replicated yet.
			// Refused, but not revoked: a revocation written on the lagging
			// master would race the newer rotation on the other one, and
			// row-based replication would swap the two rows and leave the
			// masters diverged (seen after a master crash).
			p.unauthorized(w, ReasonAhead, "session token is newer than this provider's database (replication behind); log in again")
			return Session{}, false
		}
		return Session{}, p.revoke(w, r, s, ReasonOutdated)
	}
	if !p.cfg.Broken.NoRotate {
		next := s.Token.next()
		ok, err := p.cfg.Store.RotateToken(ctx, tenant, s.Token, next)
		if err != nil {
			p.storeFailed(w, r, "rotating the session token", err)
			return Session{}, false
		}
		if !ok {
			return Session{}, p.revoke(w, r, s, ReasonRaced)
		}
		s.Token = next
		p.setCookie(w, next)
	}
	w.Header().Set(HeaderUser, s.User)
	return s, true
}

// revoke ends a session after a token that is not the newest; always false.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request, s Session, reason string) bool {
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if err := p.cfg.Store.RevokeSession(ctx, s.Tenant, s.Token.SID); err != nil {
		p.storeFailed(w, r, "revoking a hijacked session", err)
		return false
	}
	p.log.Debug("session revoked", "tenant", s.Tenant, "user", s.User, "reason", reason, "remote", r.RemoteAddr)
	p.unauthorized(w, reason, "session token is not the newest; session revoked, log in again")
	return false
}

type inboxJSON struct {
	User     string    `json:"user"`
	Tenant   string    `json:"tenant"`
	Provider string    `json:"provider"`
	Messages []Message `json:"messages"`
}

func (p *Provider) inbox(w http.ResponseWriter, r *http.Request, s Session) {
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	msgs, err := p.cfg.Store.Inbox(ctx, s.Tenant, s.User, inboxLimit)
	if err != nil {
		p.storeFailed(w, r, "reading the inbox", err)
		return
	}
	writeJSON(w, http.StatusOK, inboxJSON{User: s.User, Tenant: s.Tenant, Provider: p.cfg.ID, Messages: msgs})
}

func (p *Provider) message(w http.ResponseWriter, r *http.Request, s Session) {
	id := r.PathValue("id")
	if !validName(id, maxIDLen) {
		writeJSON(w, http.StatusBadRequest, errBody("message id must be 1–128 printable ASCII characters"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	m, err := p.cfg.Store.Message(ctx, s.Tenant, id)
	if errors.Is(err, ErrNotFound) || err == nil && m.User != s.User && m.To != s.User {
		writeJSON(w, http.StatusNotFound, errBody("no such message"))
		return
	}
	if err != nil {
		p.storeFailed(w, r, "reading a message", err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (p *Provider) logout(w http.ResponseWriter, r *http.Request, s Session) {
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if err := p.cfg.Store.RevokeSession(ctx, s.Tenant, s.Token.SID); err != nil {
		p.storeFailed(w, r, "ending the session", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]string{"user": s.User, "tenant": s.Tenant, "provider": p.cfg.ID})
}

func (p *Provider) health(w http.ResponseWriter, r *http.Request) {
	if p.cfg.Broken.HealthIgnoresStore {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "provider": p.cfg.ID})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), healthWait)
	defer cancel()
	if err := p.cfg.Store.Ping(ctx); err != nil {
		p.log.Debug("health: store unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable", "provider": p.cfg.ID})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "provider": p.cfg.ID})
}

// validBody accepts valid UTF-8 up to maxBodyLen bytes.
func validBody(s string) bool { return len(s) <= maxBodyLen && utf8.ValidString(s) }
