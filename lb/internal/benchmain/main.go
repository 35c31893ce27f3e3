// Command benchmain measures the built-in balancer against HAProxy with one
// thread, side by side in interleaved rounds, as ../shared/BENCHMARKING.md
// describes: wrk on core 0, the measured balancer on core 1, the same ECDSA
// certificate and the same two backends (started here, floating). It is run
// by scripts/bench-lb.sh (make bench-lb) and prints a Markdown table.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/regify-verify/regify-verify/internal/pki"
	"github.com/regify-verify/regify-verify/lb"
)

type options struct {
	rounds     int
	duration   time.Duration
	warmup     time.Duration
	conns      int
	closeConns int
	lbBin      string
	haproxy    string
	wrk        string
	modes      []string
	lbCore     string
	wrkCore    string
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "serve" {
		if err := serve(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench-lb serve:", err)
			os.Exit(2)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "backends" { // for profiling by hand
		addrs, stop, err := startBackends(2)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer stop()
		fmt.Println(strings.Join(addrs, " "))
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer cancel()
		<-ctx.Done()
		return
	}
	var o options
	var modes string
	flag.IntVar(&o.rounds, "rounds", 4, "interleaved rounds")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured wrk run per mode, balancer and round")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "load thrown away before each measured run")
	flag.IntVar(&o.conns, "conns", 64, "wrk connections for keep-alive and redirect modes")
	flag.IntVar(&o.closeConns, "close-conns", 32, "wrk connections for the handshake modes")
	flag.StringVar(&o.lbBin, "lb", "self", "the regify-verify binary (runs 'lb --config'), or self: this program's serve mode (the same package lb)")
	flag.StringVar(&o.haproxy, "haproxy", "/usr/sbin/haproxy", "haproxy binary")
	flag.StringVar(&o.wrk, "wrk", "wrk", "wrk binary")
	flag.StringVar(&modes, "modes", "keepalive,full,resumed,redirect", "modes to run")
	flag.StringVar(&o.lbCore, "lb-core", "1", "CPU the balancers are pinned to")
	flag.StringVar(&o.wrkCore, "wrk-core", "0", "CPU wrk is pinned to")
	flag.Parse()
	o.modes = strings.Split(modes, ",")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-lb:", err)
		os.Exit(1)
	}
}

// result is one wrk run against one balancer.
type result struct {
	rps, p50, p99 float64 // p50/p99 in ms
	cpuSec        float64
	requests      float64
	errors        int
}

func (r result) perCPU() float64 {
	if r.cpuSec <= 0 {
		return 0
	}
	return r.requests / r.cpuSec
}

// server is one balancer process under test.
type server struct {
	name  string // ours / haproxy
	https string // address
	http  string
	cmd   *exec.Cmd
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "bench-lb-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	ca, err := pki.NewCA("bench CA")
	if err != nil {
		return err
	}
	leaf, err := ca.Issue([]string{"abc.test"}, []net.IP{net.ParseIP("127.0.0.1")}, 24*time.Hour)
	if err != nil {
		return err
	}
	certFile, keyFile, err := leaf.WriteFiles(dir, "abc.test")
	if err != nil {
		return err
	}
	pem := filepath.Join(dir, "abc.test.pem") // HAProxy wants chain and key in one file
	if err := os.WriteFile(pem, append(append([]byte{}, leaf.CertPEM...), leaf.KeyPEM...), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", pem, err)
	}

	backends, stopBackends, err := startBackends(2)
	if err != nil {
		return err
	}
	defer stopBackends()

	// Two instances of each balancer: resumption on (keep-alive, resumed,
	// redirect) and off (full handshakes), as the two cannot share a config.
	var servers = map[string]*server{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	ports := map[string][2]int{"ours": {19443, 19080}, "ours-full": {19444, 19081}, "haproxy": {29443, 29080}, "haproxy-full": {29444, 29081}}
	for _, name := range []string{"ours", "ours-full", "haproxy", "haproxy-full"} {
		p := ports[name]
		s := &server{name: name, https: fmt.Sprintf("127.0.0.1:%d", p[0]), http: fmt.Sprintf("127.0.0.1:%d", p[1])}
		full := strings.HasSuffix(name, "-full")
		if strings.HasPrefix(name, "ours") {
			cfgPath := filepath.Join(dir, name+".yaml")
			if err := os.WriteFile(cfgPath, []byte(oursConfig(s, backends, certFile, keyFile, full)), 0o644); err != nil {
				return err
			}
			if o.lbBin == "self" {
				self, err := os.Executable()
				if err != nil {
					return err
				}
				s.cmd = exec.CommandContext(ctx, "taskset", "-c", o.lbCore, self, "serve", cfgPath)
			} else {
				s.cmd = exec.CommandContext(ctx, "taskset", "-c", o.lbCore, o.lbBin, "lb", "--config", cfgPath)
			}
			s.cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
		} else {
			cfgPath := filepath.Join(dir, name+".cfg")
			if err := os.WriteFile(cfgPath, []byte(haproxyConfig(s, backends, pem, full)), 0o644); err != nil {
				return err
			}
			s.cmd = exec.CommandContext(ctx, "taskset", "-c", o.lbCore, o.haproxy, "-f", cfgPath, "-db")
		}
		s.cmd.Stdout, s.cmd.Stderr = io.Discard, os.Stderr
		if err := s.cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		servers[name] = s
		if err := waitListening(ctx, s.https, 10*time.Second); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}

	type key struct{ mode, lb string }
	results := map[key][]result{}
	for round := 1; round <= o.rounds; round++ {
		for _, mode := range o.modes {
			order := []string{"ours", "haproxy"}
			if round%2 == 0 {
				order = []string{"haproxy", "ours"}
			}
			for _, lb := range order {
				s := servers[lb]
				if mode == "full" {
					s = servers[lb+"-full"]
				}
				r, err := measure(ctx, o, s, mode)
				if err != nil {
					return fmt.Errorf("round %d %s %s: %w", round, mode, lb, err)
				}
				results[key{mode, lb}] = append(results[key{mode, lb}], r)
				fmt.Fprintf(os.Stderr, "round %d %-9s %-8s %8.0f rps  p50 %6.2f ms  p99 %6.2f ms  %8.0f req/CPU-s  errors %d\n",
					round, mode, lb, r.rps, r.p50, r.p99, r.perCPU(), r.errors)
			}
		}
	}

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("Rounds: %d × %v per mode and balancer (warm-up %v), interleaved; wrk on CPU %s (1 thread, %d connections keep-alive/redirect, %d with `Connection: close`), balancers on CPU %s (ours GOMAXPROCS=1, HAProxy nbthread 1), two Go backends (~200 B body) floating. Load average at the end: %s\n\n",
		o.rounds, o.duration, o.warmup, o.wrkCore, o.conns, o.closeConns, o.lbCore, strings.TrimSpace(string(load)))
	fmt.Println("| mode | HAProxy rps | ours rps | **ratio (median of rounds)** | HAProxy p50 / p99 ms | ours p50 / p99 ms | HAProxy req/CPU-s | ours req/CPU-s | CPU ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, mode := range o.modes {
		hs, os_ := results[key{mode, "haproxy"}], results[key{mode, "ours"}]
		var ratios, cpuRatios []float64
		for i := range hs {
			ratios = append(ratios, os_[i].rps/hs[i].rps)
			if hs[i].perCPU() > 0 {
				cpuRatios = append(cpuRatios, os_[i].perCPU()/hs[i].perCPU())
			}
		}
		med := func(rs []result, f func(result) float64) float64 {
			var xs []float64
			for _, r := range rs {
				xs = append(xs, f(r))
			}
			return median(xs)
		}
		fmt.Printf("| %s | %.0f | %.0f | **%.2f×** | %.2f / %.2f | %.2f / %.2f | %.0f | %.0f | %.2f× |\n", mode,
			med(hs, func(r result) float64 { return r.rps }), med(os_, func(r result) float64 { return r.rps }), median(ratios),
			med(hs, func(r result) float64 { return r.p50 }), med(hs, func(r result) float64 { return r.p99 }),
			med(os_, func(r result) float64 { return r.p50 }), med(os_, func(r result) float64 { return r.p99 }),
			med(hs, result.perCPU), med(os_, result.perCPU), median(cpuRatios))
	}
	return nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM) // only the process this program started, by its pid
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func waitListening(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %v: %w", addr, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startBackends runs n tiny fast backends (~200 B responses) in this process.
func startBackends(n int) ([]string, func(), error) {
	body := []byte(`{"provider":"bench","tenant":"abc.test","message":"` + strings.Repeat("x", 140) + `"}` + "\n")
	var addrs []string
	var srvs []*http.Server
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("backend listen: %w", err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		addrs = append(addrs, ln.Addr().String())
		srvs = append(srvs, srv)
	}
	return addrs, func() {
		for _, s := range srvs {
			s.Close()
		}
	}, nil
}

func oursConfig(s *server, backends []string, certFile, keyFile string, full bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listeners:\n  - {name: https, mode: https, address: %q, pool: abc, host: abc.test}\n", s.https)
	fmt.Fprintf(&b, "  - {name: http, mode: redirect, address: %q, host: abc.test, redirect_code: 301, redirect_port: 8443}\n", s.http)
	b.WriteString("pools:\n  - name: abc\n    host: abc.test\n    backends:\n")
	for i, a := range backends {
		fmt.Fprintf(&b, "      - {name: p%d, address: %q, provider: p%d}\n", i+1, a, i+1)
	}
	fmt.Fprintf(&b, "certificates:\n  - {names: [abc.test], cert_file: %q, key_file: %q}\n", certFile, keyFile)
	fmt.Fprintf(&b, "tls: {disable_resumption: %v}\n", full)
	return b.String()
}

func haproxyConfig(s *server, backends []string, pem string, full bool) string {
	cache, tickets := "", ""
	if full {
		cache, tickets = "    tune.ssl.cachesize 0\n", " no-tls-tickets"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `global
    nbthread 1
    maxconn 4096
%s
defaults
    mode http
    timeout connect 3s
    timeout client 60s
    timeout server 30s
    option http-keep-alive

frontend fe_https
    bind %s ssl crt %s alpn h2,http/1.1%s
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    default_backend be

frontend fe_http
    bind %s
    http-request redirect prefix https://abc.test:8443 code 301

backend be
    balance source
    hash-type consistent
    option httpchk GET /health
`, cache, s.https, pem, tickets, s.http)
	for i, a := range backends {
		fmt.Fprintf(&b, "    server p%d %s check inter 2s\n", i+1, a)
	}
	return b.String()
}

var (
	reqsRe    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	totalRe   = regexp.MustCompile(`(\d+) requests in`)
	latRe     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	nonOKRe   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	sockErrRe = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// measure runs wrk against one balancer in one mode and reads the CPU the
// balancer process spent meanwhile from /proc/<pid>/stat.
func measure(ctx context.Context, o options, s *server, mode string) (result, error) {
	url := "https://" + s.https + "/"
	conns := o.conns
	var extra []string
	switch mode {
	case "keepalive":
	case "full", "resumed":
		extra = []string{"-H", "Connection: close"}
		conns = o.closeConns
	case "redirect":
		url = "http://" + s.http + "/"
	default:
		return result{}, fmt.Errorf("unknown mode %q", mode)
	}
	wrk := func(d time.Duration) (string, error) {
		args := append([]string{"-c", o.wrkCore, o.wrk, "-t1", "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%.0fs", d.Seconds()), "--latency"}, extra...)
		args = append(args, url)
		out, err := exec.CommandContext(ctx, "taskset", args...).Output()
		if err != nil {
			return "", fmt.Errorf("wrk: %w", err)
		}
		return string(out), nil
	}
	if o.warmup > 0 {
		if _, err := wrk(o.warmup); err != nil {
			return result{}, err
		}
	}
	cpu0, err := cpuSeconds(s.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	out, err := wrk(o.duration)
	if err != nil {
		return result{}, err
	}
	cpu1, err := cpuSeconds(s.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	var r result
	m := reqsRe.FindStringSubmatch(out)
	if m == nil {
		return result{}, errors.New("no Requests/sec in wrk output:\n" + out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := totalRe.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range latRe.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if m[1] == "50" {
			r.p50 = v
		} else {
			r.p99 = v
		}
	}
	if m := nonOKRe.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.errors += n
	}
	if m := sockErrRe.FindStringSubmatch(out); m != nil {
		for _, x := range m[1:] {
			n, _ := strconv.Atoi(x)
			r.errors += n
		}
	}
	r.cpuSec = cpu1 - cpu0
	return r, nil
}

// cpuSeconds is utime+stime of a process, from /proc/<pid>/stat.
func cpuSeconds(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu of pid %d: %w", pid, err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	// The command name may hold spaces: fields start after the last ')'.
	fields := strings.Fields(line[strings.LastIndexByte(line, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

// serve runs the balancer from a config file until SIGTERM, as
// 'regify-verify lb --config' does.
func serve(cfgPath string) error {
	cfg, err := lb.LoadConfig(cfgPath)
	if err != nil {
		return err
	}
	if prof := os.Getenv("LB_CPUPROFILE"); prof != "" { // for finding hot spots by hand
		f, err := os.Create(prof)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	b, err := lb.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := b.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.Shutdown(sctx)
}
