package mariadb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

var execLookPath = exec.LookPath

// server is one running (or exited) mariadbd child process.
type server struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited and was reaped
	err     error         // exit status; read only after done
	logPath string
}

func (sv *server) exited() bool {
	select {
	case <-sv.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process; a process that already exited is not
// an error for SIGKILL or SIGTERM.
func (sv *server) signal(sig syscall.Signal) error {
	if sv.exited() {
		return nil
	}
	if err := sv.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send %s to pid %d: %w", sig, sv.cmd.Process.Pid, err)
	}
	return nil
}

// wait waits until the process has exited, at most timeout.
func (sv *server) wait(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case <-sv.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mariadbd pid %d did not exit within %s", sv.cmd.Process.Pid, timeout)
	}
}

func (p *Process) sideDir(s Side) string { return filepath.Join(p.Dir(), s.String()) }

// install makes side A's datadir with mariadb-install-db and copies it for
// side B: nothing in a fresh datadir is specific to one server (server id,
// GTID domain and binlogs come from the config at start), and a copy is
// much faster than a second install.
func (p *Process) install(ctx context.Context) error {
	a, b := p.sideDir(A), p.sideDir(B)
	for _, d := range []string{filepath.Join(a, "tmp"), filepath.Join(b, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("make %s: %w", d, err)
		}
	}
	cnf := filepath.Join(a, "install.cnf")
	// One tmpdir per instance: parallel installs sharing /tmp fail now and
	// then. The small redo log keeps the datadir (and its copy) small.
	body := fmt.Sprintf(`[mysqld]
datadir = %s
tmpdir = %s
socket = %s
innodb_log_file_size = 8M
innodb_buffer_pool_size = 64M
performance_schema = OFF
skip_name_resolve = ON
`, filepath.Join(a, "data"), filepath.Join(a, "tmp"), filepath.Join(a, "install.sock"))
	if err := os.WriteFile(cnf, []byte(body), 0o644); err != nil {
		return fmt.Errorf("write install config: %w", err)
	}
	extra := filepath.Join(a, "init.sql")
	if err := os.WriteFile(extra, []byte(p.cfg.processInitSQL()), 0o600); err != nil {
		return fmt.Errorf("write init SQL: %w", err)
	}
	// --defaults-file must come first.
	args := []string{"--defaults-file=" + cnf, "--auth-root-authentication-method=normal", "--skip-test-db", "--extra-file=" + extra}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ictx, p.installDB, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// On timeout end the whole group: the script's bootstrap server too.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ictx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, ictx.Err())
		}
		return fmt.Errorf("install a MariaDB datadir with %s: %w; output: %s (check that mariadb-server is installed completely: scripts/setup.sh)",
			p.installDB, err, tail(out, 8))
	}
	p.log.Debug("datadir installed", "took", time.Since(start).Round(time.Millisecond))
	if err := os.CopyFS(filepath.Join(b, "data"), os.DirFS(filepath.Join(a, "data"))); err != nil {
		return fmt.Errorf("copy the datadir for side b: %w", err)
	}
	return nil
}

// processInitSQL creates what the docker image's entrypoint creates (root
// with a password from anywhere, the application database and user) plus
// initSQL. mariadb-install-db runs it in bootstrap mode: one statement per
// line, and FLUSH PRIVILEGES first or account statements fail.
func (c Config) processInitSQL() string {
	q := sqlQuote
	lines := []string{
		"FLUSH PRIVILEGES;",
		"SET SESSION sql_log_bin = 0;",
		// root@127.0.0.1 (no password) would win over root@'%' for our
		// TCP connections.
		"DELETE FROM mysql.global_priv WHERE User='' OR (User='root' AND Host <> 'localhost');",
		"FLUSH PRIVILEGES;",
		fmt.Sprintf("ALTER USER 'root'@'localhost' IDENTIFIED BY %s;", q(c.RootPassword)),
		fmt.Sprintf("CREATE USER IF NOT EXISTS 'root'@'%%' IDENTIFIED BY %s;", q(c.RootPassword)),
		"GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;",
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s`;", c.Database),
		fmt.Sprintf("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s;", q(c.AppUser), q(c.AppPassword)),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO %s@'%%';", c.Database, q(c.AppUser)),
	}
	return strings.Join(lines, "\n") + "\n" + c.initSQL()
}

func sqlQuote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// writeConfig writes side s's server config: the pair's [mysqld] section
// plus where this instance keeps its files and listens.
func (p *Process) writeConfig(s Side) error {
	d := p.sideDir(s)
	addr, err := p.Addr(context.Background(), s)
	if err != nil {
		return err
	}
	_, port, _ := strings.Cut(addr, ":")
	// Later lines win: bind only to loopback, not 0.0.0.0.
	body := p.cfg.ServerConfig(s) + fmt.Sprintf(`datadir = %s
tmpdir = %s
socket = %s
pid_file = %s
log_error = %s
port = %s
bind_address = %s
`, filepath.Join(d, "data"), filepath.Join(d, "tmp"), filepath.Join(d, "mysqld.sock"),
		filepath.Join(d, "mysqld.pid"), filepath.Join(d, "error.log"), port, p.host)
	if err := os.WriteFile(filepath.Join(d, "my.cnf"), []byte(body), 0o644); err != nil {
		return fmt.Errorf("write config of side %s: %w", s, err)
	}
	return nil
}

// Start implements Pair: start mariadbd on side s's datadir and port (both
// unchanged since Up) and wait until it answers SQL. A server that exits
// while starting fails at once with the end of its log.
func (p *Process) Start(ctx context.Context, s Side) error {
	if sv := p.server(s); sv != nil && !sv.exited() {
		return nil
	}
	if _, err := p.Addr(ctx, s); err != nil || p.Dir() == "" {
		return fmt.Errorf("start side %s: the pair is not up (call Up first)", s)
	}
	p.core.forget(s)
	d := p.sideDir(s)
	args := []string{"--defaults-file=" + filepath.Join(d, "my.cnf")}
	if os.Geteuid() == 0 {
		// mariadbd refuses to run as root unless told to.
		args = append(args, "--user=root")
	}
	out, err := os.OpenFile(filepath.Join(d, "mariadbd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start side %s: %w", s, err)
	}
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group keeps a terminal's Ctrl-C away from the server
	// (the run cleans up in order); Pdeathsig ends it if we die first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start side %s (%s): %w", s, p.bin, err)
	}
	sv := &server{cmd: cmd, done: make(chan struct{}), logPath: filepath.Join(d, "error.log")}
	go func() {
		sv.err = cmd.Wait()
		out.Close()
		close(sv.done)
	}()
	p.mu.Lock()
	p.servers[s] = sv
	p.mu.Unlock()
	p.log.Debug("mariadbd started", "side", s.String(), "pid", cmd.Process.Pid)

	return p.waitReady(ctx, s, sv)
}

// waitReady polls side s until it answers SQL, within ReadyTimeout. It
// fails at once when the process exits or refuses our credentials (neither
// gets better by waiting).
func (p *Process) waitReady(ctx context.Context, s Side, sv *server) error {
	timeout := p.cfg.ReadyTimeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		db, err := p.core.admin(ctx, s)
		if err == nil {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			err = db.PingContext(pctx)
			pcancel()
			if err == nil {
				return nil
			}
		}
		last = err
		if sv.exited() {
			log, _ := os.ReadFile(sv.logPath)
			return fmt.Errorf("mariadbd of side %s exited while starting (%v); end of %s: %s", s, sv.err, sv.logPath, tail(log, 6))
		}
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1045 {
			return fmt.Errorf("side %s refuses the root account: %w (the datadir in %s was not installed with this Config)", s, err, p.Dir())
		}
		select {
		case <-sv.done:
		case <-ctx.Done():
			return fmt.Errorf("side %s did not answer SQL within %s (last error: %v; server log: %s)", s, timeout, last, sv.logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail returns the last n non-empty lines of b, joined with " | ".
func tail(b []byte, n int) string {
	var lines []string
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, string(l))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(empty)"
	}
	return strings.Join(lines, " | ")
}
