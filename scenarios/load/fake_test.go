package load

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/internal/pki"
)

// fakeProvider follows the contract of docs/CONTRACTS.md closely enough to
// catch a client that presents outdated tokens: every authenticated response
// rotates the token, an outdated one revokes the session.
type fakeProvider struct {
	password string
	// revokeEvery answers every n-th authenticated request with 401 and
	// revokes the session (0: never).
	revokeEvery int
	// failFirstSend answers the first POST of every message id with 503.
	failFirstSend bool
	// hangInbox makes GET /inbox wait until the client gives up.
	hangInbox bool
	// stallIP's GET /inbox requests take stallFor each.
	stallIP  string
	stallFor time.Duration

	mu       sync.Mutex
	next     int
	tokens   map[string]*fakeSession // every token ever issued
	messages map[string]string       // tenant/id -> sender
	tried    map[string]bool         // tenant/id seen by failFirstSend
	auth     int
	stale    int // outdated tokens presented
	unknown  int // tokens never issued
	marker   int // requests that leaked UserHeader
	remote   map[string]map[string]bool
	uris     []string // request URIs as received
}

type fakeSession struct {
	user, tenant, current string
	revoked               bool
}

func newFakeProvider() *fakeProvider {
	return &fakeProvider{
		password: "secret",
		tokens:   map[string]*fakeSession{},
		messages: map[string]string{},
		tried:    map[string]bool{},
		remote:   map[string]map[string]bool{},
	}
}

func (f *fakeProvider) counts() (stale, unknown, marker int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stale, f.unknown, f.marker
}

func (f *fakeProvider) issue(s *fakeSession) string {
	f.next++
	tok := "tok" + strconv.Itoa(f.next)
	s.current = tok
	f.tokens[tok] = s
	return tok
}

func setToken(w http.ResponseWriter, tok string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: tok, Path: "/", Secure: true,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: maxAge})
}

func (f *fakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tenant, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		tenant = r.Host
	}
	if tenant != "abc.test" && tenant != "def.test" {
		w.WriteHeader(http.StatusMisdirectedRequest)
		return
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	seen, _ := json.Marshal(history.Seen{RemoteAddr: r.RemoteAddr, TLS: r.TLS != nil})
	w.Header().Set(headerProvider, "fake")
	w.Header().Set(headerTenant, tenant)
	w.Header().Set(headerSeen, string(seen))
	if r.Method == http.MethodGet && r.URL.Path == "/inbox" && f.hangInbox {
		<-r.Context().Done()
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/inbox" && f.stallIP != "" && ip == f.stallIP {
		select {
		case <-time.After(f.stallFor):
		case <-r.Context().Done():
			return
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.uris = append(f.uris, r.RequestURI)
	if r.Header.Get(UserHeader) != "" {
		f.marker++
	}
	if r.Method == http.MethodPost && r.URL.Path == "/login" {
		if r.FormValue("password") != f.password {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s := &fakeSession{user: r.FormValue("user"), tenant: tenant}
		f.seenFrom(s.user, ip)
		setToken(w, f.issue(s), 0)
		w.Header().Set(headerUser, s.user)
		return
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s, ok := f.tokens[c.Value]
	switch {
	case !ok:
		f.unknown++
		w.WriteHeader(http.StatusUnauthorized)
		return
	case s.revoked:
		w.WriteHeader(http.StatusUnauthorized)
		return
	case s.current != c.Value:
		f.stale++
		s.revoked = true
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.seenFrom(s.user, ip)
	f.auth++
	if f.revokeEvery > 0 && f.auth%f.revokeEvery == 0 {
		s.revoked = true
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set(headerUser, s.user)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/logout":
		s.revoked = true
		setToken(w, "", -1)
	case r.Method == http.MethodGet && r.URL.Path == "/inbox":
		setToken(w, f.issue(s), 0)
		fmt.Fprintln(w, "[]")
	case r.Method == http.MethodPost && r.URL.Path == "/messages":
		setToken(w, f.issue(s), 0)
		key := tenant + "/" + r.FormValue("id")
		if f.failFirstSend && !f.tried[key] {
			f.tried[key] = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if _, ok := f.messages[key]; ok {
			return
		}
		f.messages[key] = s.user
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/messages/"):
		setToken(w, f.issue(s), 0)
		if _, ok := f.messages[tenant+"/"+strings.TrimPrefix(r.URL.Path, "/messages/")]; !ok {
			w.WriteHeader(http.StatusNotFound)
		}
	default:
		setToken(w, f.issue(s), 0)
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeProvider) seenFrom(user, ip string) {
	if f.remote[user] == nil {
		f.remote[user] = map[string]bool{}
	}
	f.remote[user][ip] = true
}

// testLab serves two tenants on two public IPs (127.0.11.1 abc.test,
// 127.0.11.2 def.test): https with per-SNI certificates (and the IP's own
// certificate without SNI) and plain http that redirects to https.
type testLab struct {
	ca      *pki.CA
	fake    *fakeProvider
	domains []history.Domain
	leaves  map[string]*pki.Leaf
}

type labOptions struct {
	// wrongDefault makes the https listener of def.test present abc.test's
	// certificate to clients that send no SNI.
	wrongDefault bool
	// noRedirect makes the http listeners serve content instead of redirecting.
	noRedirect bool
	// paths serves the contract's paths under other names (served path ->
	// contract path); the contract's own names then answer 404.
	paths map[string]string
	// minTLS is the https listeners' lowest version; 0 is Go's default (1.2).
	minTLS uint16
	// app, when set, is served on https instead of the fake provider.
	app http.Handler
}

// renamed serves h with the paths of opt.paths.
func renamed(h http.Handler, paths map[string]string) http.Handler {
	if len(paths) == 0 {
		return h
	}
	hidden := map[string]bool{}
	for _, contract := range paths {
		hidden[contract] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contract, ok := paths[r.URL.Path]; ok {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.RequestURI = contract, contract
			h.ServeHTTP(w, r2)
			return
		}
		if hidden[r.URL.Path] {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func newTestLab(t testing.TB, fake *fakeProvider, opt labOptions) *testLab {
	t.Helper()
	ca, err := pki.NewCA("load-test")
	require.NoError(t, err)
	lab := &testLab{ca: ca, fake: fake, leaves: map[string]*pki.Leaf{}}
	names := []string{"abc.test", "def.test"}
	for _, n := range names {
		leaf, err := ca.Issue([]string{n}, nil, time.Hour)
		require.NoError(t, err)
		lab.leaves[n] = leaf
	}
	for i, n := range names {
		ip := fmt.Sprintf("127.0.11.%d", i+1)
		def := lab.leaves[n]
		if opt.wrongDefault && n == "def.test" {
			def = lab.leaves["abc.test"]
		}
		tcfg := &tls.Config{
			Certificates: []tls.Certificate{def.TLS},
			NextProtos:   []string{"http/1.1"},
			MinVersion:   opt.minTLS,
			GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
				if l, ok := lab.leaves[h.ServerName]; ok {
					return &l.TLS, nil
				}
				return nil, nil // no or unknown SNI: the IP's own certificate
			},
		}
		httpsLn, err := net.Listen("tcp", ip+":0")
		require.NoError(t, err)
		httpsPort := httpsLn.Addr().(*net.TCPAddr).Port
		var app http.Handler = renamed(fake, opt.paths)
		if opt.app != nil {
			app = opt.app
		}
		serve(t, tls.NewListener(httpsLn, tcfg), app)

		var plain http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.Host)
			fake.mu.Lock()
			fake.uris = append(fake.uris, r.RequestURI)
			fake.mu.Unlock()
			http.Redirect(w, r, fmt.Sprintf("https://%s:%d%s", host, httpsPort, r.URL.RequestURI()), http.StatusPermanentRedirect)
		})
		if opt.noRedirect {
			plain = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "plain content") })
		}
		httpLn, err := net.Listen("tcp", ip+":0")
		require.NoError(t, err)
		serve(t, httpLn, plain)

		lab.domains = append(lab.domains, history.Domain{
			Name:     n,
			PublicIP: ip,
			HTTPS:    fmt.Sprintf("https://%s:%d/", n, httpsPort),
			HTTP:     fmt.Sprintf("http://%s:%d/", n, httpLn.Addr().(*net.TCPAddr).Port),
		})
	}
	return lab
}

func serve(t testing.TB, ln net.Listener, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve %s: %v", ln.Addr(), err)
		}
	})
}

// config is a load configuration for the lab with users 127.0.10.1….
func (l *testLab) config(users int) Config {
	return Config{
		Users:     users,
		SourceIPs: sources(users),
		Domains:   l.domains,
		Duration:  30 * time.Second,
		Password:  l.fake.password,
		CA:        l.ca.Pool(),
		Timeout:   5 * time.Second,
		Seed:      42,
	}
}

func splitHostPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }

// sources are the users' addresses 127.0.10.1….
func sources(n int) []netip.Addr {
	src := make([]netip.Addr, n)
	for i := range src {
		src[i] = netip.AddrFrom4([4]byte{127, 0, 10, byte(i + 1)})
	}
	return src
}
