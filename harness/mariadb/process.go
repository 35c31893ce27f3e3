package mariadb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/links"
)

// ProcessOptions configure the process backend.
type ProcessOptions struct {
	// Config is the pair's topology; zero fields get Defaults.
	Config Config
	// Run owns the temp dir and the clean-up; nil makes a run of the
	// pair's own.
	Run *cleanup.Run
	// Binary is the mariadbd to run; empty looks in PATH, then /usr/sbin.
	Binary string
	// InstallDB is mariadb-install-db; empty looks in PATH, next to
	// Binary, then /usr/bin.
	InstallDB string
	// Host is the loopback address both servers and their replication
	// links listen on; empty: 127.0.0.1. A run side by side with others
	// gives each pair its own: a restarted server or a healed link binds
	// its old port again, and on 127.0.0.1 any outgoing connection of the
	// machine may have taken it meanwhile as its source port.
	Host string
	Log  *slog.Logger
}

// Process is the process backend: two local mariadbd processes on
// 127.0.0.1, each replicating from the other through an in-process
// toxiproxy link, so that cutting the links breaks replication while the
// application still reaches each server on its own port.
type Process struct {
	cfg       Config
	run       *cleanup.Run
	log       *slog.Logger
	core      *sqlCore
	bin       string
	installDB string
	links     *links.Links
	host      string // what servers and links listen on

	cutMu sync.Mutex // serialises Cut/Heal; never held with mu inside SQL calls
	cut   bool

	mu       sync.Mutex
	dir      string
	ports    [2]int
	linkAddr [2]string // the link that forwards to side s
	servers  [2]*server
}

// NewProcess checks that MariaDB is installed and prepares a process pair;
// Up starts it.
func NewProcess(o ProcessOptions) (*Process, error) {
	bin, err := findBinary(o.Binary, "mariadbd", "/usr/sbin")
	if err != nil {
		return nil, fmt.Errorf("process pair: %w", err)
	}
	inst := o.InstallDB
	if inst == "" {
		inst, err = findBinary("", "mariadb-install-db", filepath.Dir(bin), "/usr/bin")
	} else {
		inst, err = findBinary(inst, "mariadb-install-db")
	}
	if err != nil {
		return nil, fmt.Errorf("process pair: %w", err)
	}
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	p := &Process{cfg: o.Config.Defaults(), log: o.Log, bin: bin, installDB: inst, host: host}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if o.Run != nil {
		p.run = o.Run.Child("mariadb process pair")
	} else {
		r, err := cleanup.NewRun()
		if err != nil {
			return nil, err
		}
		p.run = r
	}
	p.core = &sqlCore{cfg: p.cfg, addr: p.Addr, masterOf: p.masterOf}
	return p, nil
}

// masterOf is the link that forwards to the other side.
func (p *Process) masterOf(s Side) (string, int) {
	p.mu.Lock()
	addr := p.linkAddr[s.Other()]
	p.mu.Unlock()
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return host, n
}

func linkName(s Side) string { return "mariadb-" + s.String() }

// Up implements Pair: install one datadir and copy it for side B, start
// both servers on free ports, link them and set up replication both ways.
func (p *Process) Up(ctx context.Context) error {
	start := time.Now()
	dir, err := p.run.TempDir("mariadb")
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.dir = dir
	p.mu.Unlock()
	// Registered after the temp dir, so it runs before the dir is removed.
	p.run.Defer("mariadbd processes", p.killAll)
	if err := p.install(ctx); err != nil {
		return err
	}
	installed := time.Since(start)
	ports, err := freePorts(p.host, 2)
	if err != nil {
		return err
	}
	p.links = links.New()
	p.run.Defer("replication links", func(context.Context) error { p.links.Close(); return nil })
	p.mu.Lock()
	p.ports = [2]int{ports[0], ports[1]}
	p.mu.Unlock()
	for _, s := range Sides {
		addr, _ := p.Addr(ctx, s)
		la, err := p.links.Add(linkName(s), net.JoinHostPort(p.host, "0"), addr)
		if err != nil {
			return fmt.Errorf("replication link to side %s: %w", s, err)
		}
		p.mu.Lock()
		p.linkAddr[s] = la
		p.mu.Unlock()
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for _, s := range Sides {
		if err := p.writeConfig(s); err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[s] = p.Start(ctx, s)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := p.core.setupReplication(ctx); err != nil {
		return fmt.Errorf("set up replication: %w", err)
	}
	if err := p.core.waitReplicating(ctx, p.cfg.ReplTimeout); err != nil {
		return err
	}
	p.log.Info("mariadb process pair up", "dir", dir, "a", p.mustAddr(A), "b", p.mustAddr(B),
		"install", installed.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond))
	return nil
}

// freePorts asks the kernel for n free ports on host. They are released
// before mariadbd binds them; another process could take one in between,
// which shows up as a clear bind error in the server log.
func freePorts(host string, n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port on %s: %w", host, err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Addr implements Pair; the address stays the same across restarts.
func (p *Process) Addr(_ context.Context, s Side) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ports[s] == 0 {
		return "", fmt.Errorf("side %s is not up", s)
	}
	return net.JoinHostPort(p.host, strconv.Itoa(p.ports[s])), nil
}

func (p *Process) mustAddr(s Side) string {
	a, _ := p.Addr(context.Background(), s)
	return a
}

// DSN implements Pair.
func (p *Process) DSN(ctx context.Context, s Side) (string, error) { return p.core.appDSN(ctx, s) }

// PID is the process id of side s's mariadbd, 0 when it does not run.
func (p *Process) PID(s Side) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sv := p.servers[s]; sv != nil && !sv.exited() {
		return sv.cmd.Process.Pid
	}
	return 0
}

// Dir is the pair's temp dir (datadirs, configs and server logs).
func (p *Process) Dir() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dir
}

// Kill implements Pair: SIGKILL, then wait until the process is gone.
func (p *Process) Kill(ctx context.Context, s Side) error {
	p.core.forget(s)
	sv := p.server(s)
	if sv == nil || sv.exited() {
		return fmt.Errorf("kill side %s: it does not run", s)
	}
	if err := sv.signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill side %s: %w", s, err)
	}
	return sv.wait(ctx, 10*time.Second)
}

// Stop implements Pair: SIGTERM and wait for a clean shutdown; a server
// that does not finish within 30 s is killed and Stop reports it.
func (p *Process) Stop(ctx context.Context, s Side) error {
	p.core.forget(s)
	sv := p.server(s)
	if sv == nil || sv.exited() {
		return nil
	}
	// A stopped process cannot handle SIGTERM.
	_ = sv.signal(syscall.SIGCONT)
	if err := sv.signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop side %s: %w", s, err)
	}
	if err := sv.wait(ctx, 30*time.Second); err != nil {
		_ = sv.signal(syscall.SIGKILL)
		_ = sv.wait(context.WithoutCancel(ctx), 10*time.Second)
		return fmt.Errorf("stop side %s: %w; it was killed instead (see %s)", s, err, sv.logPath)
	}
	return nil
}

// Pause implements Pair with SIGSTOP.
func (p *Process) Pause(_ context.Context, s Side) error {
	sv := p.server(s)
	if sv == nil || sv.exited() {
		return fmt.Errorf("pause side %s: it does not run", s)
	}
	if err := sv.signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause side %s: %w", s, err)
	}
	return nil
}

// Unpause implements Pair with SIGCONT.
func (p *Process) Unpause(_ context.Context, s Side) error {
	sv := p.server(s)
	if sv == nil || sv.exited() {
		return fmt.Errorf("unpause side %s: it does not run", s)
	}
	if err := sv.signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("unpause side %s: %w", s, err)
	}
	return nil
}

// CutReplication implements Pair: both links refuse connections and drop
// the live ones; the servers' own ports, which the application uses, stay.
func (p *Process) CutReplication(context.Context) error {
	p.cutMu.Lock()
	defer p.cutMu.Unlock()
	if p.links == nil {
		return errors.New("cut replication: the pair is not up")
	}
	for _, s := range Sides {
		if err := p.links.Cut(linkName(s)); err != nil {
			return fmt.Errorf("cut replication: %w", err)
		}
	}
	p.cut = true
	return nil
}

// HealReplication implements Pair: reopen both links, then restart both
// IO threads so that neither waits out its retry interval.
func (p *Process) HealReplication(ctx context.Context) error {
	p.cutMu.Lock()
	defer p.cutMu.Unlock()
	if !p.cut {
		return nil
	}
	for _, s := range Sides {
		if err := p.links.Restore(linkName(s)); err != nil {
			return fmt.Errorf("heal replication: %w", err)
		}
	}
	p.cut = false
	for _, s := range Sides {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = p.core.exec(rctx, s, "STOP SLAVE IO_THREAD")
		err := p.core.exec(rctx, s, "START SLAVE IO_THREAD")
		cancel()
		if err != nil {
			return fmt.Errorf("heal replication: restart replica IO thread: %w", err)
		}
	}
	return nil
}

// StopReplica implements Pair.
func (p *Process) StopReplica(ctx context.Context, s Side) error { return p.core.stopReplica(ctx, s) }

// StartReplica implements Pair.
func (p *Process) StartReplica(ctx context.Context, s Side) error {
	return p.core.startReplica(ctx, s)
}

// SetReplicationDelay implements Pair.
func (p *Process) SetReplicationDelay(ctx context.Context, s Side, delay time.Duration) error {
	return p.core.setDelay(ctx, s, delay)
}

// Status implements Pair.
func (p *Process) Status(ctx context.Context) (Status, error) { return p.core.status(ctx) }

// Observer implements Pair.
func (p *Process) Observer() *dbobserve.Observer { return p.core.observer() }

// Checksum implements Pair.
func (p *Process) Checksum(ctx context.Context, tables ...string) (Checksums, error) {
	return p.core.checksum(ctx, tables...)
}

// Lag implements Pair.
func (p *Process) Lag(ctx context.Context, from Side) (time.Duration, error) {
	return p.core.lag(ctx, from)
}

// WaitConverged implements Pair.
func (p *Process) WaitConverged(ctx context.Context, tables []string, timeout time.Duration) error {
	return p.core.waitConverged(ctx, tables, timeout)
}

// Close implements Pair: kill both servers, close the links and remove the
// temp dir.
func (p *Process) Close(ctx context.Context) error {
	p.core.closeAll()
	return p.run.Close(ctx)
}

// killAll ends both servers with SIGKILL: their data is thrown away with
// the temp dir, so a clean shutdown would only cost time.
func (p *Process) killAll(ctx context.Context) error {
	var errs []error
	for _, s := range Sides {
		sv := p.server(s)
		if sv == nil || sv.exited() {
			continue
		}
		if err := sv.signal(syscall.SIGKILL); err != nil {
			errs = append(errs, fmt.Errorf("kill side %s: %w", s, err))
			continue
		}
		if err := sv.wait(ctx, 10*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("side %s: %w", s, err))
		}
	}
	return errors.Join(errs...)
}

func (p *Process) server(s Side) *server {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.servers[s]
}

var _ Pair = (*Process)(nil)

// findBinary resolves a program: an explicit path (or name in PATH), else
// name in PATH, else name in each of dirs.
func findBinary(explicit, name string, dirs ...string) (string, error) {
	if explicit != "" {
		if path, err := lookPath(explicit); err == nil {
			return path, nil
		}
		return "", fmt.Errorf("%s not found or not executable; install mariadb-server (scripts/setup.sh) or fix the path", explicit)
	}
	if path, err := lookPath(name); err == nil {
		return path, nil
	}
	for _, d := range dirs {
		if path, err := lookPath(filepath.Join(d, name)); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or %v; install mariadb-server (scripts/setup.sh, or apt-get install mariadb-server)", name, dirs)
}

func lookPath(name string) (string, error) {
	if filepath.Base(name) == name {
		return execLookPath(name)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return "", err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is not an executable file", name)
	}
	return name, nil
}
