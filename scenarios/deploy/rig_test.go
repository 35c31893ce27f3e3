package deploy

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/internal/pki"
	"github.com/regify-verify/regify-verify/reports"
)

// Addresses of these tests: distinct from the lab's (127.0.1.x public,
// 127.0.2.x internal) so both can run on one machine.
const (
	rigPublicA = "127.0.5.1"
	rigPublicB = "127.0.5.2"
	rigNameA   = "abc.test"
	rigNameB   = "def.test"
)

// tmplData fills the balancer templates in examples/haproxy and
// examples/nginx.
type tmplData struct {
	Dir                    string
	NameA, NameB           string
	PublicA, PublicB       string
	HTTPSPort, HTTPPort    int
	BundleA, BundleB       string // HAProxy: certificate chain + key in one file
	CertA, KeyA            string // nginx: separate files
	CertB, KeyB            string
	P1A, P1B, P2A, P2B     string // internal addresses of the providers (ip:port)
	CAFile                 string
	providers              []*fakeprovider.Provider
	caPool                 func() *tls.Config
	startedProcessesOutput []*bytes.Buffer
}

// rigProviderIPs are the internal addresses of newRig's providers (two
// each, one per name).
var rigProviderIPs = [2][2]string{{"127.0.6.1", "127.0.6.2"}, {"127.0.6.3", "127.0.6.4"}}

// newRig starts two fake providers sharing one store (master-master
// replication is not what these tests judge) and writes the certificates.
func newRig(t *testing.T) *tmplData {
	t.Helper()
	return newRigOn(t, rigProviderIPs)
}

// newRigOn is newRig with the providers on ips: a rig whose providers go
// down and come back on the same ports needs addresses no other rig binds
// while the tests run side by side.
func newRigOn(t *testing.T, ips [2][2]string) *tmplData {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("target-test")
	require.NoError(t, err)
	d := &tmplData{Dir: dir, NameA: rigNameA, NameB: rigNameB, PublicA: rigPublicA, PublicB: rigPublicB}
	d.CAFile = filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(d.CAFile, ca.PEM, 0o600))
	for _, n := range []struct {
		name             string
		bundle, crt, key *string
	}{{rigNameA, &d.BundleA, &d.CertA, &d.KeyA}, {rigNameB, &d.BundleB, &d.CertB, &d.KeyB}} {
		leaf, err := ca.Issue([]string{n.name}, nil, 30*24*time.Hour)
		require.NoError(t, err)
		*n.crt, *n.key, err = leaf.WriteFiles(dir, n.name)
		require.NoError(t, err)
		*n.bundle = filepath.Join(dir, n.name+".pem")
		require.NoError(t, os.WriteFile(*n.bundle, append(append([]byte{}, leaf.CertPEM...), leaf.KeyPEM...), 0o600))
	}
	pool := ca.Pool()
	d.caPool = func() *tls.Config { return &tls.Config{RootCAs: pool} }

	store := fakeprovider.NewMemoryStore()
	ctx := context.Background()
	for i, ips := range ips {
		p, err := fakeprovider.New(fakeprovider.Config{ID: fmt.Sprintf("p%d", i+1), Tenants: []string{rigNameA, rigNameB}, Store: store, ShowSeen: true})
		require.NoError(t, err)
		require.NoError(t, p.Start(ctx, fakeprovider.Binds(ips[0]+":0", ips[1]+":0")...))
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.Close(cctx)
		})
		addrs := p.Addrs()
		require.Len(t, addrs, 2)
		if i == 0 {
			d.P1A, d.P1B = addrs[0], addrs[1]
		} else {
			d.P2A, d.P2B = addrs[0], addrs[1]
		}
		d.providers = append(d.providers, p)
	}
	d.HTTPSPort = freePort(t, rigPublicA, rigPublicB)
	d.HTTPPort = freePort(t, rigPublicA, rigPublicB)
	return d
}

// freePort finds a port free on every given IP.
func freePort(t *testing.T, ips ...string) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", ips[0]+":0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		ok := true
		var others []net.Listener
		for _, ip := range ips[1:] {
			l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
			if err != nil {
				ok = false
				break
			}
			others = append(others, l)
		}
		for _, l := range append(others, ln) {
			_ = l.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatal("no port free on all of", ips)
	return 0
}

// render fills a template of examples/ into the rig's dir.
func (d *tmplData) render(t *testing.T, src string) string {
	t.Helper()
	tpl, err := template.ParseFiles(src)
	require.NoError(t, err)
	out := filepath.Join(d.Dir, filepath.Base(src)+".rendered")
	var buf bytes.Buffer
	require.NoError(t, tpl.Execute(&buf, d))
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o600))
	return out
}

// syncBuffer collects a process's output for the test log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProcess starts a balancer in the foreground and stops it (by its
// pid, SIGTERM then SIGKILL) when the test ends. The returned channel is
// closed when the process exits.
func startProcess(t *testing.T, name string, args ...string) <-chan struct{} {
	_, exited := startProcessPID(t, name, args...)
	return exited
}

// startProcessPID is startProcess that also returns the pid.
func startProcessPID(t *testing.T, name string, args ...string) (int, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(name, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start(), "start %s", name)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
	return cmd.Process.Pid, exited
}

// waitReady waits until both public names answer GET /health over https
// and the http port accepts connections, or the process exits.
func (d *tmplData) waitReady(t *testing.T, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: d.caPool(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, _ := net.SplitHostPort(addr)
			ip := map[string]string{rigNameA: rigPublicA, rigNameB: rigPublicB}[host]
			var nd net.Dialer
			return nd.DialContext(ctx, network, net.JoinHostPort(ip, port))
		},
	}}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := func() error {
			for _, n := range []string{rigNameA, rigNameB} {
				resp, err := client.Get(fmt.Sprintf("https://%s:%d/health", n, d.HTTPSPort))
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("%s /health: %s", n, resp.Status)
				}
			}
			c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", rigPublicA, d.HTTPPort), time.Second)
			if err != nil {
				return err
			}
			return c.Close()
		}()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("balancer not ready within 15s: %v", err)
		}
		select {
		case <-exited:
			t.Fatal("the balancer exited during start-up (see its output below)")
		case <-tick.C:
		}
	}
}

// deployment writes and loads the deployment file for the rig.
func (d *tmplData) deployment(t *testing.T, extra string) *Deployment {
	t.Helper()
	yaml := fmt.Sprintf(`name: rig
mode: offload
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
  source_ips: 127.0.10.1-127.0.10.24
load:
  # Odd per tenant on purpose: the load serves its users in a fixed
  # rotation, and with an even number per tenant round robin over two
  # providers would hand every user the same provider each time. 22 and
  # not 10: a consistent hash over two providers whose ports change every
  # run put all 10 addresses on one provider once (a false spread warning
  # for a good configuration, CI); with 22 that is far rarer (an even
  # split: 2 in 2^10 against 2 in 2^22).
  users: 22
  rate: 60
  duration: 3s
  timeout: 3s
%[8]s`, rigNameA, rigNameB, d.HTTPSPort, d.HTTPPort, rigPublicA, rigPublicB, d.CAFile, extra)
	path := filepath.Join(d.Dir, "deployment.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	dep, err := Load(path)
	require.NoError(t, err)
	return dep
}

// verdicts maps invariant name to verdict for one scenario.
func verdicts(sc *reports.Scenario) map[string]reports.Verdict {
	out := map[string]reports.Verdict{}
	for _, inv := range sc.Invariants {
		out[inv.Name] = inv.Verdict
	}
	return out
}

func failing(sc *reports.Scenario) []string {
	var out []string
	for _, inv := range sc.Invariants {
		if inv.Verdict == reports.Fail {
			out = append(out, inv.Name)
		}
	}
	return out
}

func logScenario(t *testing.T, sc *reports.Scenario) {
	t.Helper()
	for _, inv := range sc.Invariants {
		t.Logf("%-20s %-5s %s", inv.Name, inv.Verdict, inv.Summary)
		for _, e := range inv.Evidence {
			t.Logf("    %s", e)
		}
	}
}
