package deploy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/internal/pki"
)

// Addresses of the in-process balancer: distinct from the rig's 127.0.5.x.
const (
	goRigPublicA = "127.0.7.1"
	goRigPublicB = "127.0.7.2"
)

// goRigOptions shape the in-process balancer.
type goRigOptions struct {
	// paths serves the contract's paths under other names (served path ->
	// contract path); the contract's own names then answer 404.
	paths map[string]string
	// minTLS is the lowest TLS version accepted; 0 is Go's default (1.2).
	minTLS uint16
	// loseWrites stores every sent message under another id: the send is
	// acknowledged, a read of its id finds nothing.
	loseWrites bool
}

// goRig is a balancer written in Go in front of one fake provider: https
// per name with its own certificate, http→https redirects, and a count of
// the requests by method and path as the balancer received them.
type goRig struct {
	dir, caFile         string
	httpsPort, httpPort int

	mu   sync.Mutex
	seen map[string]int // "POST /messages" -> count
}

func (g *goRig) count(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seen[key]
}

func newGoRig(t *testing.T, opt goRigOptions) *goRig {
	t.Helper()
	g := &goRig{dir: t.TempDir(), seen: map[string]int{}}
	ca, err := pki.NewCA("gorig-test")
	require.NoError(t, err)
	g.caFile = filepath.Join(g.dir, "ca.pem")
	require.NoError(t, os.WriteFile(g.caFile, ca.PEM, 0o600))
	p, err := fakeprovider.New(fakeprovider.Config{ID: "p1", Tenants: []string{rigNameA, rigNameB}, Store: fakeprovider.NewMemoryStore(), ShowSeen: true})
	require.NoError(t, err)

	hidden := map[string]bool{}
	for _, contract := range opt.paths {
		hidden[contract] = true
	}
	inner := p.Handler()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.seen[r.Method+" "+r.URL.Path]++
		g.mu.Unlock()
		r = r.Clone(r.Context())
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		r.Header.Set("X-Forwarded-For", ip)
		r.Header.Set("X-Forwarded-Proto", "https")
		if opt.loseWrites && r.Method == http.MethodPost && r.URL.Path == "/messages" {
			if err := r.ParseForm(); err == nil {
				r.PostForm.Set("id", r.PostForm.Get("id")+"-lost")
				body := r.PostForm.Encode()
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
				r.Form, r.PostForm = nil, nil
			}
		}
		if contract, ok := opt.paths[r.URL.Path]; ok {
			r.URL.Path, r.RequestURI = contract, contract
		} else if hidden[r.URL.Path] {
			http.NotFound(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})

	g.httpsPort = freePort(t, goRigPublicA, goRigPublicB)
	g.httpPort = freePort(t, goRigPublicA, goRigPublicB)
	for _, n := range []struct{ name, ip string }{{rigNameA, goRigPublicA}, {rigNameB, goRigPublicB}} {
		leaf, err := ca.Issue([]string{n.name}, nil, 30*24*time.Hour)
		require.NoError(t, err)
		ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", n.ip, g.httpsPort))
		require.NoError(t, err)
		goServe(t, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, MinVersion: opt.minTLS, NextProtos: []string{"http/1.1"}}), h)
		ln, err = net.Listen("tcp", fmt.Sprintf("%s:%d", n.ip, g.httpPort))
		require.NoError(t, err)
		goServe(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.Host)
			http.Redirect(w, r, fmt.Sprintf("https://%s:%d%s", host, g.httpsPort, r.URL.RequestURI()), http.StatusMovedPermanently)
		}))
	}
	return g
}

func goServe(t *testing.T, ln net.Listener, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
	})
}

// deployment writes and loads a deployment file for the in-process
// balancer; extra is appended (e.g. a session section).
func (g *goRig) deployment(t *testing.T, extra string) *Deployment {
	t.Helper()
	return writeDeployment(t, fmt.Sprintf(`name: gorig
domains:
  - name: %[1]s
    https: https://%[1]s:%[3]d/
    http: http://%[1]s:%[4]d/
    address: %[5]s
  - name: %[2]s
    https: https://%[2]s:%[3]d/
    http: http://%[2]s:%[4]d/
    address: %[6]s
tls:
  ca_file: %[7]s
clients:
  source_ips: 127.0.10.1-127.0.10.6
load: {users: 6, rate: 100, duration: 1s, timeout: 3s}
%[8]s`, rigNameA, rigNameB, g.httpsPort, g.httpPort, goRigPublicA, goRigPublicB, g.caFile, extra))
}
