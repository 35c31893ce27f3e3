package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
)

// formApp is an application in the appliance's style, not the provider
// contract: a login form with a CSRF token and its own field names, a
// session cookie APPSESSION that rotates on every authenticated answer,
// and a redirect to the login page when the session is gone. It names
// nobody in its headers.
type formApp struct {
	mu       sync.Mutex
	sessions map[string]*appSession // id -> session
	// keepOld leaves a replaced id valid (a broken hijack protection).
	keepOld bool
	// noRotate keeps the id on authenticated answers.
	noRotate bool
	// forget drops every session after this many authenticated answers
	// (0: never): sessions are lost as on a move to another node.
	forget, served int
}

type appSession struct {
	token string // the CSRF token of the login form
	user  string
}

func newFormApp() *formApp { return &formApp{sessions: map[string]*appSession{}} }

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *formApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var s *appSession
	if c, err := r.Cookie("APPSESSION"); err == nil {
		s = a.sessions[c.Value]
	}
	newID := func(s *appSession, old string) {
		id := randomID()
		a.sessions[id] = s
		if old != "" && !a.keepOld {
			delete(a.sessions, old)
		}
		http.SetCookie(w, &http.Cookie{Name: "APPSESSION", Value: id, Path: "/"})
	}
	old := ""
	if c, err := r.Cookie("APPSESSION"); err == nil {
		old = c.Value
	}
	switch {
	case r.URL.Path == "/login" && r.Method == http.MethodGet:
		if s == nil {
			s = &appSession{}
			newID(s, "")
		}
		s.token = randomID()
		fmt.Fprintf(w, `<form method="post"><input name="login"><input type="password" name="passwd"><input type="hidden" name="_token" value="%s"></form>`, s.token)
	case r.URL.Path == "/login" && r.Method == http.MethodPost:
		if s == nil || r.FormValue("_token") != s.token || r.FormValue("passwd") != "s3cret" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `bad login <input name="passwd">`)
			return
		}
		s.user = r.FormValue("login")
		newID(s, old)
		http.Redirect(w, r, "/mail/inbox", http.StatusFound)
	case r.URL.Path == "/mail/inbox":
		if s == nil || s.user == "" {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		if !a.noRotate {
			newID(s, old)
		}
		fmt.Fprintf(w, "Inbox of %s", s.user)
		a.served++
		if a.forget > 0 && a.served%a.forget == 0 {
			a.sessions = map[string]*appSession{}
		}
	case r.URL.Path == "/logout":
		delete(a.sessions, old)
		http.Redirect(w, r, "/login", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// formFlow is formApp's session flow, as a deployment file would give it.
func formFlow() *Flow {
	return &Flow{
		Cookie:   CookieName{Name: "APPSESSION"},
		Rotates:  true,
		Accounts: []Account{{User: "acceptance@example.com", Password: "s3cret"}},
		Login: []Step{
			{Name: "session.login[1]", Method: http.MethodGet, Path: "/login",
				Extract: []Extraction{{Var: "token", From: Source{Body: regexp.MustCompile(`name="_token" value="([^"]+)"`)}}}},
			{Name: "session.login[2]", Method: http.MethodPost, Path: "/login",
				Form:   []Pair{{"login", "${user}"}, {"passwd", "${password}"}, {"_token", "${token}"}},
				Expect: Expect{Status: []int{http.StatusFound}}},
		},
		Probe:     Step{Name: "session.probe", Method: http.MethodGet, Path: "/mail/inbox", Expect: Expect{Status: []int{200}, Body: regexp.MustCompile("Inbox")}},
		LoggedOut: Match{Status: []int{401, 403}, Redirect: "/login"},
		Logout:    &Step{Name: "session.logout", Method: http.MethodGet, Path: "/logout"},
	}
}

func runFlow(t *testing.T, app *formApp, flow *Flow, users int, max uint64) *history.History {
	t.Helper()
	lab := newTestLab(t, newFakeProvider(), labOptions{app: app})
	cfg := lab.config(users)
	cfg.Flow, cfg.MaxRequests, cfg.Rate = flow, max, 400
	rec := history.NewRecorder(history.Meta{})
	require.NoError(t, Run(context.Background(), cfg, rec))
	return rec.History()
}

func TestFlowDrivesAFormLogin(t *testing.T) {
	h := runFlow(t, newFormApp(), formFlow(), 4, 200)
	var logins, probes, authenticated, lost int
	for _, r := range h.Requests {
		require.Empty(t, r.Err, "%+v", r)
		switch r.Op {
		case history.OpLogin:
			logins++
		case history.OpInbox:
			probes++
			if r.SessionUser != "" {
				authenticated++
				assert.Equal(t, r.User, r.SessionUser, "the session is the user's own")
				assert.NotEmpty(t, r.TokenReceived, "every authenticated answer rotates")
				assert.NotEqual(t, r.TokenSent, r.TokenReceived)
			}
			if r.LoggedOut {
				lost++
			}
		}
	}
	assert.Equal(t, probes, authenticated, "every probe was answered within the session")
	assert.Zero(t, lost)
	assert.GreaterOrEqual(t, logins, 8, "two steps a login, four users")
	assert.Greater(t, probes, 100)
}

func TestFlowSeesLostSessions(t *testing.T) {
	app := newFormApp()
	app.forget = 20
	h := runFlow(t, app, formFlow(), 3, 200)
	lost, relogins := 0, 0
	for i, r := range h.Requests {
		if r.LoggedOut {
			lost++
			assert.Equal(t, http.StatusFound, r.Status)
			assert.False(t, r.OK(), "a lost session is not a success")
			assert.Empty(t, r.SessionUser)
			// The user's next request starts the login again.
			for _, n := range h.Requests[i+1:] {
				if n.User == r.User {
					assert.Equal(t, "/login", n.URL[len(n.URL)-len("/login"):])
					assert.Equal(t, http.MethodGet, n.Method)
					relogins++
					break
				}
			}
		}
	}
	assert.Greater(t, lost, 0, "the app forgot sessions and the flow saw it")
	assert.Greater(t, relogins, 0)
}

func TestFlowLoginFailureRestarts(t *testing.T) {
	f := formFlow()
	f.Accounts[0].Password = "wrong"
	p := newFlowPlan(1, 0, 1, f, f.account(0, ""), ReadOnlyMix)
	get := p.next()
	require.Equal(t, "/login", get.path)
	p.loginDone(get, &answer{status: 200, header: http.Header{}, body: []byte(`name="_token" value="T1"`)})
	post := p.next()
	assert.Equal(t, "T1", post.form.Get("_token"), "the extracted token is sent")
	assert.Equal(t, "wrong", post.form.Get("passwd"))
	p.done(post, &answer{status: 403, header: http.Header{}})
	assert.Contains(t, p.failure, "session.login[2] (POST /login): status 403, expected [302]")
	assert.Equal(t, http.MethodGet, p.next().method, "back to the first step")

	p.loginDone(get, &answer{status: 200, header: http.Header{}, body: []byte(`no token here`)})
	assert.Contains(t, p.failure, "token not found in body")
	assert.False(t, p.loggedIn)
}

func TestFlowReplay(t *testing.T) {
	for _, keepOld := range []bool{false, true} {
		t.Run(fmt.Sprintf("keepOld=%v", keepOld), func(t *testing.T) {
			app := newFormApp()
			app.keepOld = keepOld
			lab := newTestLab(t, newFakeProvider(), labOptions{app: app})
			cfg := lab.config(2)
			cfg.Flow = formFlow()
			rec := history.NewRecorder(history.Meta{})
			require.NoError(t, ProbeReplay(context.Background(), cfg, rec))
			var replays []history.Request
			for _, r := range rec.History().Requests {
				if r.Op == OpReplay {
					replays = append(replays, r)
				}
			}
			require.Len(t, replays, 2, "one replay a domain")
			for _, r := range replays {
				assert.NotEmpty(t, r.TokenSent)
				if keepOld {
					assert.Equal(t, ReplayVictim, r.SessionUser, "the stolen cookie gave the victim's session")
				} else {
					assert.True(t, r.LoggedOut, "the outdated cookie is refused: %+v", r)
					assert.Empty(t, r.SessionUser)
				}
			}
		})
	}
}

func TestFlowValidate(t *testing.T) {
	f := formFlow()
	f.Probe.Path = "/mail/${folder}"
	f.Login = append(f.Login, Step{Name: "session.login[3]", Method: "GET"})
	err := f.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "session.probe: ${folder} is never extracted by an earlier step (defined here: user, password, token)")
	assert.Contains(t, err.Error(), "session.login[3]: a step needs a method and a path")
	c := ContractFlow(Paths{})
	assert.NoError(t, c.Validate())
}
