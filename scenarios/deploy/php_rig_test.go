package deploy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/internal/pki"
)

// The PHP rig: the application of testdata/phpapp (not our fake provider)
// on two nodes — one `php -S` each, with its own session directory — behind
// a real HAProxy or nginx rendered from examples/phpapp. Its addresses are
// distinct from the other rigs' (127.0.5.x, 127.0.6.x, 127.0.7.x) and from
// the lab's.
const (
	phpName     = "app.test"
	phpPublic   = "127.0.8.1"
	phpNode1IP  = "127.0.8.11"
	phpNode2IP  = "127.0.8.12"
	phpPassword = "s3cret"
	// phpPasswordEnv holds phpPassword for the deployment file's
	// password_env.
	phpPasswordEnv = "RV_PASSWORD"
	phpUser        = "acceptance-1@example.com"
	phpBin         = "/usr/bin/php"
)

// phpClientIPs are the simulated users' source addresses, one per /24:
// nginx's ip_hash hashes only the first three octets of an IPv4 address,
// so clients of one /24 would all land on one node. Seven, an odd number:
// the load serves its users in a fixed rotation, and with an even number
// round robin over two nodes could hand every user the same node each time.
var phpClientIPs = []string{"127.0.20.1", "127.0.21.1", "127.0.22.1", "127.0.23.1", "127.0.24.1", "127.0.25.1", "127.0.26.1"}

// phpAppOptions configure both nodes of the application.
type phpAppOptions struct {
	// NoRotate: the broken variant that keeps its session id on
	// authenticated answers (APP_ROTATE=0).
	NoRotate bool
	// SendNode: each node names itself in X-Node (APP_SEND_NODE=1).
	SendNode bool
}

// phpNode is one running `php -S`.
type phpNode struct {
	Name     string // node1, node2 (APP_NODE)
	Addr     string // ip:port
	Sessions string // session.save_path
	pid      int
	exited   <-chan struct{}
}

// phpRig fills the templates of examples/phpapp (exported fields) and
// drives the nodes and the balancer.
type phpRig struct {
	Dir                 string
	Name, Public        string
	HTTPSPort, HTTPPort int
	Bundle              string // HAProxy: certificate chain + key in one file
	Cert, Key           string // nginx: separate files
	CAFile              string
	Node1, Node2        string // the nodes' ip:port
	nodes               []*phpNode
	tlsConfig           func() *tls.Config
}

// newPHPRig writes the certificates and starts the two nodes; the balancer
// is started by startBalancer.
func newPHPRig(t *testing.T, opt phpAppOptions) *phpRig {
	t.Helper()
	bin := lookBinary(t, phpBin, "php")
	dir := t.TempDir()
	r := &phpRig{Dir: dir, Name: phpName, Public: phpPublic}
	ca, err := pki.NewCA("phpapp-test")
	require.NoError(t, err)
	r.CAFile = filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(r.CAFile, ca.PEM, 0o600))
	leaf, err := ca.Issue([]string{phpName}, nil, 30*24*time.Hour)
	require.NoError(t, err)
	r.Cert, r.Key, err = leaf.WriteFiles(dir, phpName)
	require.NoError(t, err)
	r.Bundle = filepath.Join(dir, phpName+".pem")
	require.NoError(t, os.WriteFile(r.Bundle, append(append([]byte{}, leaf.CertPEM...), leaf.KeyPEM...), 0o600))
	pool := ca.Pool()
	r.tlsConfig = func() *tls.Config { return &tls.Config{RootCAs: pool, ServerName: phpName} }

	router, err := filepath.Abs(filepath.Join("testdata", "phpapp", "router.php"))
	require.NoError(t, err)
	for i, ip := range []string{phpNode1IP, phpNode2IP} {
		n := &phpNode{Name: fmt.Sprintf("node%d", i+1), Addr: fmt.Sprintf("%s:%d", ip, freePort(t, ip))}
		n.Sessions = filepath.Join(dir, n.Name+"-sessions")
		require.NoError(t, os.Mkdir(n.Sessions, 0o700))
		env := []string{
			"APP_NODE=" + n.Name,
			"APP_PASSWORD=" + phpPassword,
			// php -S serves one request at a time unless it forks workers.
			"PHP_CLI_SERVER_WORKERS=4",
		}
		if opt.NoRotate {
			env = append(env, "APP_ROTATE=0")
		}
		if opt.SendNode {
			env = append(env, "APP_SEND_NODE=1")
		}
		n.pid, n.exited = startPHP(t, bin, env,
			"-n", // no php.ini: the settings below are all there is
			"-d", "session.save_path="+n.Sessions,
			"-d", "session.use_strict_mode=1",
			"-d", "session.cookie_httponly=1",
			"-d", "session.gc_probability=0",
			"-S", n.Addr, router)
		r.nodes = append(r.nodes, n)
	}
	r.Node1, r.Node2 = r.nodes[0].Addr, r.nodes[1].Addr
	for _, n := range r.nodes {
		phpWaitHTTP(t, "http://"+n.Addr+"/health", n.exited, n.Name)
	}
	r.HTTPSPort = freePort(t, phpPublic)
	r.HTTPPort = freePort(t, phpPublic)
	return r
}

// startPHP starts `php -S` in a process group of its own and stops the
// group when the test ends. With PHP_CLI_SERVER_WORKERS the server forks
// workers, which a signal to the parent alone does not stop (SIGTERM kills
// the parent and orphans them; on SIGINT it waits for them forever): SIGINT
// goes to the whole group, as a terminal's Ctrl-C would, and the parent
// reaps its workers and exits. SIGKILL to the group if that takes too long.
func startPHP(t *testing.T, bin string, env []string, args ...string) (int, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start(), "start %s", bin)
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-exited
		}
		// The workers are gone with the parent (it waits for them); make
		// sure of it.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("php %v output (last 4 KiB):\n%s", args[len(args)-2], phpTail(out.String(), 4096))
		}
	})
	return pid, exited
}

func phpTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// phpWaitHTTP waits until url answers 200 or the process exits.
func phpWaitHTTP(t *testing.T, url string, exited <-chan struct{}, what string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 15s: %v", what, err)
		}
		select {
		case <-exited:
			t.Fatalf("%s exited during start-up (see its output below)", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// render fills a template of examples/phpapp into the rig's dir.
func (r *phpRig) render(t *testing.T, file string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", "phpapp", file)
	tpl, err := template.ParseFiles(src)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, tpl.Execute(&buf, r))
	out := filepath.Join(r.Dir, file+".rendered")
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o600))
	return out
}

// startBalancer renders file (haproxy-*.cfg.tmpl or nginx-*.conf.tmpl),
// checks the configuration with the balancer itself, starts it in the
// foreground and waits until it serves the application over https.
func (r *phpRig) startBalancer(t *testing.T, file string) {
	t.Helper()
	var exited <-chan struct{}
	switch {
	case strings.HasPrefix(file, "haproxy-"):
		bin := lookBinary(t, haproxyBin, "haproxy")
		cfg := r.render(t, file)
		out, err := exec.Command(bin, "-c", "-q", "-f", cfg).CombinedOutput()
		require.NoError(t, err, "haproxy -c: %s", out)
		exited = startProcess(t, bin, "-db", "-f", cfg)
	case strings.HasPrefix(file, "nginx-"):
		bin := lookBinary(t, nginxBin, "nginx")
		cfg := r.render(t, file)
		out, err := exec.Command(bin, "-e", "stderr", "-p", r.Dir, "-c", cfg, "-t", "-q").CombinedOutput()
		require.NoError(t, err, "nginx -t: %s", out)
		exited = startProcess(t, bin, "-e", "stderr", "-p", r.Dir, "-c", cfg)
	default:
		t.Fatalf("%s: not a balancer template of examples/phpapp", file)
	}
	// HAProxy's health checks must have seen both nodes up (rise 2, 1s
	// apart) before it spreads clients over both: wait for each node to
	// answer through it.
	r.waitBothNodes(t, exited)
	c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", phpPublic, r.HTTPPort), time.Second)
	require.NoError(t, err, "the http listener")
	_ = c.Close()
}

// waitBothNodes waits until GET /health over https has been answered by
// each node (X-Backend), or the balancer exits.
func (r *phpRig) waitBothNodes(t *testing.T, exited <-chan struct{}) {
	t.Helper()
	seen := map[string]bool{}
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for i := 0; ; i++ {
		c := r.client(t, phpClientIPs[i%len(phpClientIPs)])
		resp, err := c.Get(r.url("/health"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				seen[r.nodeOf(resp.Header.Get("X-Backend"))] = true
			} else {
				err = errors.New(resp.Status)
			}
		}
		last = err
		c.CloseIdleConnections()
		if seen["node1"] && seen["node2"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the balancer did not reach both nodes within 15s (seen %v): %v", seen, last)
		}
		select {
		case <-exited:
			t.Fatal("the balancer exited during start-up (see its output below)")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// nodeOf maps an X-Backend value — HAProxy's server name (node1) or
// nginx's $upstream_addr (ip:port) — to the node's name; "" when it names
// neither node.
func (r *phpRig) nodeOf(backend string) string {
	for _, n := range r.nodes {
		if backend == n.Name || backend == n.Addr {
			return n.Name
		}
	}
	return ""
}

// url is the application's https URL of path on the balancer.
func (r *phpRig) url(path string) string {
	return fmt.Sprintf("https://%s:%d%s", phpName, r.HTTPSPort, path)
}

// client is one browser: its own cookie jar, connections from src to the
// balancer's public address whatever the host name, no redirects followed.
func (r *phpRig) client(t *testing.T, src string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	d := &net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{
		Jar:     jar,
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: r.tlsConfig(),
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return d.DialContext(ctx, network, net.JoinHostPort(phpPublic, port))
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// phpDo sends req and answers the response and its body.
func phpDo(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err, "%s %s", req.Method, req.URL)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// deployment writes and loads the deployment file that describes the rig
// to the harness: the application's own login flow (session:), the
// balancer's identity header (backend:) and what must be judged. The
// account's password comes from RV_PASSWORD: the test sets it with
// t.Setenv(phpPasswordEnv, phpPassword) first (at its top, when its cases
// run side by side).
func (r *phpRig) deployment(t *testing.T, backendHeader string) *Deployment {
	t.Helper()
	yaml := fmt.Sprintf(`name: phpapp
mode: offload
domains:
  - name: %[1]s
    https: https://%[1]s:%[2]d/
    http: http://%[1]s:%[3]d/
    address: %[4]s
tls:
  ca_file: %[5]s
clients:
  source_ips: [%[6]s]
load: {users: %[7]d, rate: 30, duration: 4s, timeout: 3s}
session:
  cookie: APPSESSION
  rotates: true
  accounts:
    - {user: %[8]s, password_env: %[10]s}
  login:
    - {method: GET, path: "/login", extract: {token: {body: 'name="_token" value="([^"]+)"'}}}
    - {method: POST, path: "/login", form: {login: "${user}", passwd: "${password}", _token: "${token}"}, expect: {status: [302]}}
  probe: {method: GET, path: "/mail/inbox", expect: {status: [200], body: "Inbox"}}
  logged_out: {status: [401, 403], redirect: "/login", body: 'name="passwd"'}
  logout: {method: GET, path: "/logout"}
backend:
  header: %[9]s
require: [stickiness, session-continuity, redirect, tls]
`, phpName, r.HTTPSPort, r.HTTPPort, phpPublic, r.CAFile, strings.Join(phpClientIPs, ", "), len(phpClientIPs), phpUser, backendHeader, phpPasswordEnv)
	path := filepath.Join(r.Dir, "deployment.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	d, err := Load(path)
	require.NoError(t, err, "the deployment file (the session:/backend: keys of issue 14 must be parsed)")
	return d
}
