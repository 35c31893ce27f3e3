package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// Session walks a flow's steps one at a time for one user, outside the
// load's schedule: the replay probe's victim and `check --try-session` use
// it. It is not safe for concurrent use.
type Session struct {
	flow   *Flow
	rt     *http.Transport
	jar    http.CookieJar
	base   *url.URL
	source netip.Addr
	user   string // the history's User of its records
	tenant string
	vars   map[string]string
}

// Exchange is one step of a Session as it went: the record (also for the
// history), the cookies the answer set, what was extracted, and whether
// the answer was what the step expects (and if not, why).
type Exchange struct {
	Step      *Step
	Rec       history.Request
	Form      url.Values
	SetCookie []string // name=value of each cookie the answer set
	Extracted []Pair
	Met       bool
	Why       string
}

// NewSession is a session of user (the history's name for it) with
// account's credentials against domain d, sending from source. cfg gives
// the flow (the contract's when nil), the CA, the dialer and the timeout.
func NewSession(cfg Config, d history.Domain, source netip.Addr, user string, acct Account) (*Session, error) {
	cfg = cfg.withDefaults()
	base, err := baseURL(d.HTTPS, "https")
	if err != nil {
		return nil, fmt.Errorf("session of %s at %s: %w", user, d.Name, err)
	}
	return &Session{
		flow: cfg.Flow, rt: newUserTransport(&cfg, source), jar: newJar(), base: base,
		source: source, user: user, tenant: d.Name,
		vars: map[string]string{VarUser: acct.User, VarPassword: acct.Password},
	}, nil
}

// Close closes the session's idle connections.
func (s *Session) Close() { s.rt.CloseIdleConnections() }

// Token is the session cookie the session holds now.
func (s *Session) Token() string {
	return s.flow.presented(s.jar.Cookies(s.base))
}

// Login runs the login steps in order and stops at the first that fails;
// ok is true when every step met its expectation.
func (s *Session) Login(ctx context.Context) (steps []Exchange, ok bool) {
	for i := range s.flow.Login {
		x := s.Do(ctx, &s.flow.Login[i], history.OpLogin, "")
		steps = append(steps, x)
		if !x.Met {
			return steps, false
		}
	}
	return steps, true
}

// Do sends one step with the session's cookies, or with token as the
// session cookie instead when token is set (a replay), and records it.
// Variables the step extracts are kept for the steps after.
func (s *Session) Do(ctx context.Context, def *Step, op history.Op, token string) Exchange {
	st := flowStep(def, op, s.vars)
	x := Exchange{Step: def, Form: st.form}
	rec := history.Request{User: s.user, Tenant: s.tenant, Method: st.method, Op: op}
	if s.source.IsValid() {
		rec.SourceIP = s.source.String()
	}
	u, err := target(s.base, st.path, nil)
	rec.URL = u
	var body io.Reader
	if st.form != nil {
		body = strings.NewReader(st.form.Encode())
	}
	var ct connTrace
	var req *http.Request
	if err == nil {
		req, err = http.NewRequestWithContext(httptrace.WithClientTrace(ctx, ct.trace()), st.method, u, body)
	}
	rec.Start = time.Now()
	if err != nil {
		rec.Err = fmt.Sprintf("build request: %v", err)
		x.Rec, x.Why = rec, rec.Err
		return x
	}
	for k, vs := range st.header {
		req.Header[k] = vs
	}
	if st.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	jar, owner := s.jar, s.user
	if token != "" {
		// A replay presents only the given token, from a jar of its own
		// that keeps whatever the answer sets away from the session's.
		jar = newJar()
		name := s.flow.Cookie.Name
		if name == "" {
			name = s.cookieName()
		}
		jar.SetCookies(s.base, []*http.Cookie{{Name: name, Value: token}})
		owner = "" // set by the caller: whose token it was
	}
	cookies := jar.Cookies(req.URL)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec.TokenSent = s.flow.presented(cookies)
	resp, respBody, err := exchange(s.rt, jar, req, def.Follow)
	rec.Latency = time.Since(rec.Start)
	local, remote := ct.addrs()
	if ip := hostIP(local); ip != "" {
		rec.SourceIP = ip
	}
	a := newAnswer(resp, respBody, err)
	if resp != nil {
		_ = addResponse(&rec, resp, remote) // X-Regify-Seen is informative only
		s.flow.observe(&rec, a, def.Expect, owner)
		for _, c := range resp.Cookies() {
			x.SetCookie = append(x.SetCookie, c.Name+"="+c.Value)
		}
	}
	if err != nil {
		rec.Err = err.Error()
	}
	x.Met, x.Why = def.Expect.met(a)
	if x.Met {
		for _, e := range def.Extract {
			v, found := e.From.read(a)
			if !found {
				x.Met, x.Why = false, fmt.Sprintf("%s not found in %s", e.Var, e.From)
				break
			}
			s.vars[e.Var] = v
			x.Extracted = append(x.Extracted, Pair{e.Var, v})
		}
	}
	if x.Met && op != history.OpLogin && op != history.OpLogout && rec.LoggedOut {
		x.Met, x.Why = false, "the answer shows a lost session ("+s.flow.LoggedOut.String()+")"
	}
	x.Rec = rec
	return x
}

// cookieName is the name of the session cookie the session holds, for a
// flow whose cookie is a pattern.
func (s *Session) cookieName() string {
	for _, c := range s.jar.Cookies(s.base) {
		if s.flow.Cookie.Matches(c.Name) {
			return c.Name
		}
	}
	return ""
}
