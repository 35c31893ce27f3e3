package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Where lab providers run.
const (
	// ProvidersInProcess runs each fake provider inside this process (the
	// default, the fastest): a crash closes its listeners, a hang holds its
	// answers.
	ProvidersInProcess = "inprocess"
	// ProvidersProcess runs each fake provider as a child process of its
	// own (`regify-verify provider`): a crash is a real SIGKILL, a pause a
	// real SIGSTOP, and a restart a new process. The providers then share
	// state only through the MariaDB pair, as the seed's appliances do.
	ProvidersProcess = "process"
)

// EnvBinary names the regify-verify binary that provider processes run,
// for callers (tests) whose own executable is not it.
const EnvBinary = "REGIFY_VERIFY_BIN"

// Binary is the regify-verify binary that child processes (providers,
// agents) run:
// $REGIFY_VERIFY_BIN, else this executable when it is regify-verify.
func Binary() (string, error) {
	if b := os.Getenv(EnvBinary); b != "" {
		if _, err := os.Stat(b); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBinary, b, err)
		}
		return b, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this executable: %w", err)
	}
	if strings.HasPrefix(filepath.Base(self), "regify-verify") && !strings.HasSuffix(self, ".test") {
		return self, nil
	}
	return "", fmt.Errorf("child processes (providers, agents) run the regify-verify binary, and %s is not it: build it (make build) and set %s=bin/regify-verify", self, EnvBinary)
}

// providerProcess is one fake provider running as a child process. The
// first start listens on the port 0 of each internal address and reads the
// ports chosen from the child's output; a restart listens on those again.
type providerProcess struct {
	id     string
	binary string
	args   []string // everything but --listen
	listen []string // ADDR=DOMAIN, port 0 until the first start
	log    *slog.Logger

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when the current child is reaped
	addrs  []string
	paused bool
}

// start runs the child and returns once it serves every address, or with
// the child's last words when it exits first.
func (p *providerProcess) start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	args := append([]string{"provider"}, p.args...)
	for _, l := range p.listen {
		args = append(args, "--listen", l)
	}
	cmd := exec.Command(p.binary, args...)
	// Its own process group, so a signal to us from a terminal is not
	// also its; Pdeathsig ends it if we die without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("provider %s: %w", p.id, err)
	}
	stderr := &LastWords{Max: 4096}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start provider process %s (%s): %w", p.id, p.binary, err)
	}
	serving := make(chan string, len(p.listen))
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			// "provider p1 serving abc.test,def.test on http://127.0.2.1:40001"
			if _, url, ok := strings.Cut(line, " on "); ok && strings.HasPrefix(line, "provider ") {
				serving <- url[strings.Index(url, "://")+3:]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var addrs []string
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	for len(addrs) < len(p.listen) {
		select {
		case a := <-serving:
			addrs = append(addrs, a)
		case <-exited:
			return fmt.Errorf("provider process %s exited before serving: %s", p.id, stderr.String())
		case <-t.C:
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("provider process %s did not serve within 15s: %s", p.id, stderr.String())
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("start provider process %s: %w", p.id, ctx.Err())
		}
	}
	// The child names its addresses in the order of its --listen flags.
	for i := range p.listen {
		_, domain, _ := strings.Cut(p.listen[i], "=")
		p.listen[i] = addrs[i] + "=" + domain
	}
	p.cmd, p.exited, p.addrs, p.paused = cmd, exited, addrs, false
	p.log.Debug("provider process started", "provider", p.id, "pid", cmd.Process.Pid, "addrs", addrs)
	return nil
}

// kill sends SIGKILL and reaps the child: a power loss.
func (p *providerProcess) kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill provider process %s: %w", p.id, err)
	}
	<-p.exited
	p.cmd = nil
	return nil
}

// pause freezes the child (SIGSTOP) or thaws it (SIGCONT): the kernel
// still accepts connections into its backlog, nobody answers them.
func (p *providerProcess) pause(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("provider process %s is not running", p.id)
	}
	sig := syscall.SIGCONT
	if on {
		sig = syscall.SIGSTOP
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s to provider process %s: %w", sig, p.id, err)
	}
	p.paused = on
	return nil
}

// stop ends the child for good: SIGTERM (it closes gracefully), SIGKILL
// when it has not gone within the context's bound.
func (p *providerProcess) stop(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	if p.paused {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.exited
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
	return nil
}

// pid is the running child's process id, 0 when none runs.
func (p *providerProcess) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// LastWords keeps the last Max bytes written to it: what a child process
// said last on its standard error, for the error when it fails.
type LastWords struct {
	Max int

	mu  sync.Mutex
	buf []byte
}

func (w *LastWords) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.Max; over > 0 {
		w.buf = w.buf[over:]
	}
	return len(b), nil
}

// String is what was kept, trimmed.
func (w *LastWords) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}

// providerArgs are the flags of `regify-verify provider` for a lab
// provider on the given store DSN and clearing URLs.
func providerArgs(id string, tenants []string, password, dsn string, clearing []string, clearingTimeout time.Duration) []string {
	args := []string{"--id", id, "--domains", strings.Join(tenants, ","), "--password", password,
		"--store", "mysql", "--dsn", dsn, "--clearing-timeout", clearingTimeout.String(), "--show-seen=true"}
	for _, c := range clearing {
		args = append(args, "--clearing", c)
	}
	return args
}

// listenArg is one --listen value: the provider's internal IP for domain,
// port 0 (the child picks and says).
func listenArg(ip, domain string) string { return net.JoinHostPort(ip, "0") + "=" + domain }
