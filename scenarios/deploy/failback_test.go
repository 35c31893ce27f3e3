package deploy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// Fail-back (issue 15, item 7): when provider p1 fails, its clients are
// re-pinned to p2 and log in again there (sessions are local to a
// provider). When p1 recovers, a balancer that places clients by a hash of
// their address alone sends them back to p1, where they lose their session
// a second time. TestFailback runs Debian's HAProxy and nginx in front of
// two fake providers with separate session stores, takes p1 down and up
// again through a deployment file's fault hook, and asserts which
// configurations fail back (stickiness fails with "fail-back after p1
// recovered" under bounds.failback: forbid) and which keep the re-pinned
// clients on p2.

// failbackCase is one balancer configuration and whether it fails back.
type failbackCase struct {
	name     string // subtest name
	balancer string // "haproxy" or "nginx"
	file     string // template in examples/<balancer>/
	failback bool   // clients return to p1 once it is up again
}

var failbackCases = []failbackCase{
	// balance source + hash-type consistent: the hash maps the client to
	// p1 again as soon as the health checks see p1 up.
	{name: "haproxy-balance-source", balancer: "haproxy", file: "good.cfg.tmpl", failback: true},
	// stick on src: the entry is overwritten with p2 at the fail-over and
	// still says p2 after p1 recovered.
	{name: "haproxy-stick-table", balancer: "haproxy", file: "failback-stick.cfg.tmpl"},
	{name: "haproxy-balance-source-stick-table", balancer: "haproxy", file: "failback-source-stick.cfg.tmpl"},
	// nginx OSS: passive checks only; after fail_timeout p1 is tried again
	// and the hash sends its clients back.
	{name: "nginx-hash-consistent", balancer: "nginx", file: "good.conf.tmpl", failback: true},
	{name: "nginx-ip-hash", balancer: "nginx", file: "broken-iphash.conf.tmpl", failback: true},
}

// failbackClients are the simulated users' addresses: one per /24, so that
// nginx's ip_hash (first three octets) spreads them over both providers.
const failbackClients = 10

func failbackSourceIPs() string {
	ips := make([]string, failbackClients)
	for i := range ips {
		ips[i] = fmt.Sprintf("127.0.%d.1", 20+i)
	}
	return "[" + strings.Join(ips, ", ") + "]"
}

func TestFailback(t *testing.T) {
	// Its own processes on its own ports: beside the other long tests.
	t.Parallel()
	if testing.Short() {
		t.Skip("about 20 s per configuration (a minute on two CPUs): skipped with -short")
	}
	for _, tc := range failbackCases {
		t.Run(tc.name, func(t *testing.T) {
			bin := map[string]string{"haproxy": haproxyBin, "nginx": nginxBin}[tc.balancer]
			bin = lookBinary(t, bin, tc.balancer)
			rig, sw := newFailbackRig(t)
			cfg := rig.render(t, filepath.Join("..", "..", "examples", tc.balancer, tc.file))
			var exited <-chan struct{}
			if tc.balancer == "haproxy" {
				out, err := exec.Command(bin, "-c", "-q", "-f", cfg).CombinedOutput()
				require.NoError(t, err, "haproxy -c: %s", out)
				exited = startProcess(t, bin, "-db", "-f", cfg)
			} else {
				out, err := exec.Command(bin, "-e", "stderr", "-p", rig.Dir, "-c", cfg, "-t", "-q").CombinedOutput()
				require.NoError(t, err, "nginx -t: %s", out)
				exited = startProcess(t, bin, "-e", "stderr", "-p", rig.Dir, "-c", cfg)
			}
			rig.waitReady(t, exited)
			// The balancers are up on their own ports: the load and the
			// fault run beside the other cases.
			t.Parallel()
			runFailbackCase(t, rig, sw, tc)
		})
	}
}

func runFailbackCase(t *testing.T, rig *tmplData, sw *providerSwitch, tc failbackCase) {
	t.Helper()
	d := rig.failbackDeployment(t, sw)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	rep, err := Check(ctx, d, Options{Seed: 15, RunID: "fb", AllowFaults: true})
	require.NoError(t, err)
	t.Logf("%s: checked in %s", tc.name, time.Since(start).Round(100*time.Millisecond))
	require.Len(t, rep.Scenarios, 2)

	// Without a fault every configuration is sticky.
	base := &rep.Scenarios[0]
	assert.Equal(t, reports.Pass, findVerdict(t, base, check.NameStickiness).Verdict, "stickiness without a fault")

	sc := &rep.Scenarios[1]
	logScenario(t, sc)
	require.Empty(t, sc.Error)
	require.Len(t, sc.Faults, 1)
	f := sc.Faults[0]
	t.Logf("fault %s on %s: injected, recovered after %s; effect: %s", f.Name, f.Target, f.Recovered.Sub(f.Injected).Round(10*time.Millisecond), f.Effect)
	require.False(t, f.Recovered.IsZero(), "p1 was not brought back")
	assert.Empty(t, sc.NotJudged, "the fault must have taken effect")

	stick := findVerdict(t, sc, check.NameStickiness)
	text := allText(stick)
	// The fail-over was exercised: clients of p1 were re-pinned to p2.
	assert.Positive(t, repins(stick.Summary), "no client was re-pinned: the fault did not move anybody (%s)", stick.Summary)
	// What it costs: a client that fails back finds no session on p1 (it
	// has one on p2 now) and logs in a second time, which is one loss more
	// than a fault may cost a user.
	continuity := findVerdict(t, sc, check.NameSessionContinuity).Verdict
	if tc.failback {
		assert.Equal(t, reports.Fail, stick.Verdict, "stickiness must fail on the fail-back")
		assert.Contains(t, stick.Summary, "fail-back after recovery")
		assert.Contains(t, text, "fail-back after p1 recovered")
		assert.Equal(t, reports.Fail, continuity, "the clients that failed back must have lost their session a second time")
	} else {
		assert.Equal(t, reports.Pass, stick.Verdict, "stickiness must pass: no client may return to p1")
		assert.NotContains(t, text, "fail-back")
		assert.Equal(t, reports.Pass, continuity, "each client of p1 loses its session once, at the fail-over")
	}
}

var repinsRE = regexp.MustCompile(`(\d+) (?:allowed )?re-pins`)

// repins is the number of re-pins after provider faults that stickiness
// counted.
func repins(summary string) int {
	m := repinsRE.FindStringSubmatch(summary)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// failbackDeployment is the rig's deployment with the fault hook that takes
// p1 down and brings it back, and fail-backs forbidden (the default, spelled
// out).
func (d *tmplData) failbackDeployment(t *testing.T, sw *providerSwitch) *Deployment {
	t.Helper()
	yaml := fmt.Sprintf(`name: failback
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
  source_ips: %[8]s
load:
  users: %[9]d
  rate: 30
  duration: 8s
  timeout: 3s
faults:
  - name: p1-down
    provider: p1
    inject: %[10]q
    recover: %[11]q
    hold: 3s
    timeout: 10s
bounds:
  failback: forbid
`, rigNameA, rigNameB, d.HTTPSPort, d.HTTPPort, rigPublicA, rigPublicB, d.CAFile,
		failbackSourceIPs(), failbackClients, sw.command(true), sw.command(false))
	path := filepath.Join(d.Dir, "deployment.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	dep, err := Load(path)
	require.NoError(t, err)
	return dep
}

// newFailbackRig is newRig with sessions local to each provider, as on the
// appliances: newRig's providers share one store, so a client moved to the
// other provider would keep its session and a fail-back would cost
// nothing. Its providers are replaced, on the same addresses, by two with
// a store each; p1 can be taken down and brought back by a hook command
// (providerSwitch).
func newFailbackRig(t *testing.T) (*tmplData, *providerSwitch) {
	t.Helper()
	// Addresses of the fail-back rigs alone: p1 is closed and listens
	// again on the same ports, and another rig's port 0 on a shared
	// address took one of them meanwhile (seen with tests side by side).
	d := newRigOn(t, [2][2]string{{"127.0.16.1", "127.0.16.2"}, {"127.0.16.3", "127.0.16.4"}})
	// And ports below the ephemeral range: a port the kernel handed out
	// (port 0) can meanwhile be taken by anyone's next one, a MariaDB
	// container's published port on 0.0.0.0 among them (seen in CI with
	// packages side by side: "bind: address already in use").
	d.P1A, d.P1B = stableAddr(t, "127.0.16.1"), stableAddr(t, "127.0.16.2")
	d.P2A, d.P2B = stableAddr(t, "127.0.16.3"), stableAddr(t, "127.0.16.4")
	addrs := [][]string{{d.P1A, d.P1B}, {d.P2A, d.P2B}}
	for _, p := range d.providers {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, p.Close(cctx))
		cancel()
	}
	d.providers = nil
	for i, a := range addrs {
		p, err := fakeprovider.New(fakeprovider.Config{
			ID: fmt.Sprintf("p%d", i+1), Tenants: []string{rigNameA, rigNameB},
			Store: fakeprovider.NewMemoryStore(), ShowSeen: true,
		})
		require.NoError(t, err)
		require.NoError(t, p.Start(context.Background(), fakeprovider.Binds(a...)...))
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.Close(cctx)
		})
		d.providers = append(d.providers, p)
	}
	return d, startSwitch(t, d.providers[0])
}

// providerSwitch lets a fault hook (a shell command) crash an in-process
// fake provider and start it again: the hook creates or removes a request
// file, a goroutine of the test kills or restarts the provider on its
// addresses and writes the new state, which the hook waits for. Killed,
// the provider refuses connections like a crashed appliance; restarted, it
// keeps its store (sessions made before the crash are still known).
type providerSwitch struct {
	down, state string // request file, state file ("up" or "down")
}

func startSwitch(t *testing.T, p *fakeprovider.Provider) *providerSwitch {
	t.Helper()
	dir := t.TempDir()
	s := &providerSwitch{down: filepath.Join(dir, p.ID()+".down"), state: filepath.Join(dir, p.ID()+".state")}
	require.NoError(t, os.WriteFile(s.state, []byte("up"), 0o600))
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		up := true
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			want := !exists(s.down)
			switch {
			case up && !want:
				p.Kill()
			case !up && want:
				if err := p.Start(context.Background()); err != nil {
					t.Errorf("restart %s: %v", p.ID(), err)
					return
				}
			default:
				continue
			}
			up = want
			state := map[bool]string{true: "up", false: "down"}[up]
			if err := os.WriteFile(s.state, []byte(state), 0o600); err != nil {
				t.Errorf("switch %s: %v", p.ID(), err)
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return s
}

// command is the hook's shell command that takes the provider down (or
// brings it up) and returns once that has happened (5 s at most).
func (s *providerSwitch) command(down bool) string {
	req, want := "rm -f "+s.down, "up"
	if down {
		req, want = "touch "+s.down, "down"
	}
	return fmt.Sprintf(`%s && i=0 && while [ "$(cat %s)" != %s ]; do i=$((i+1)); if [ $i -gt 500 ]; then echo "provider not %s after 5s" >&2; exit 1; fi; sleep 0.01; done`,
		req, s.state, want, want)
}

// stableAddr is ip with a free port below the kernel's ephemeral range
// (32768-60999 by default), which the kernel and Docker hand out to
// others: a provider closed and started again on it finds it still free.
func stableAddr(t *testing.T, ip string) string {
	t.Helper()
	for range 200 {
		addr := fmt.Sprintf("%s:%d", ip, 20000+rand.IntN(12000))
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			_ = ln.Close()
			return addr
		}
	}
	t.Fatal("no free port below the ephemeral range on", ip)
	return ""
}
