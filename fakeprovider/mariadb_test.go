package fakeprovider

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// mariadbd is a throwaway local MariaDB server for this package's tests:
// its own datadir, tmpdir and port, stopped by pid.
type mariadbd struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

const (
	mariadbdPath  = "/usr/sbin/mariadbd"
	installDBPath = "/usr/bin/mariadb-install-db"
)

// startMariaDB starts a server for one test and stops it at the test's end;
// it skips the test when MariaDB is not installed.
func startMariaDB(t *testing.T) *mariadbd {
	t.Helper()
	for _, p := range []string{mariadbdPath, installDBPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("MySQL store test needs Debian's mariadb-server (%s missing): apt-get install mariadb-server", p)
		}
	}
	if testing.Short() {
		t.Skip("starts a MariaDB server; skipped with -short")
	}
	dir := t.TempDir()
	data, tmp := filepath.Join(dir, "data"), filepath.Join(dir, "tmp")
	require.NoError(t, os.MkdirAll(tmp, 0o700))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	install := exec.CommandContext(ctx, installDBPath, "--no-defaults", "--datadir="+data, "--tmpdir="+tmp,
		"--user=root", "--skip-test-db", "--auth-root-authentication-method=normal")
	out, err := install.CombinedOutput()
	require.NoError(t, err, "mariadb-install-db: %s", out)

	port := freePort(t)
	logf, err := os.Create(filepath.Join(dir, "mariadbd.log"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = logf.Close() })
	cmd := exec.Command(mariadbdPath, "--no-defaults", "--datadir="+data, "--tmpdir="+tmp,
		"--socket="+filepath.Join(dir, "mysqld.sock"), "--pid-file="+filepath.Join(dir, "mysqld.pid"),
		"--bind-address=127.0.0.1", fmt.Sprintf("--port=%d", port), "--user=root",
		"--skip-grant-tables", "--skip-name-resolve", "--performance-schema=OFF",
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=8M", "--skip-log-bin")
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	m := &mariadbd{cmd: cmd, addr: fmt.Sprintf("127.0.0.1:%d", port), done: make(chan error, 1)}
	go func() { m.done <- cmd.Wait() }()
	t.Cleanup(func() { m.stop(t) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("mysql", m.dsn(""))
		require.NoError(t, err)
		err = db.PingContext(ctx)
		_ = db.Close()
		if err == nil {
			return m
		}
		select {
		case werr := <-m.done:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("mariadbd exited before it was ready: %v\n%s", werr, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd on %s not ready after 30s: %v", m.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *mariadbd) dsn(db string) string {
	c := mysql.NewConfig()
	c.User, c.Net, c.Addr, c.DBName = "root", "tcp", m.addr, db
	return c.FormatDSN()
}

// stop ends the server by its pid: SIGTERM, then SIGKILL after 20s.
func (m *mariadbd) stop(t *testing.T) {
	if m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(20 * time.Second):
		t.Logf("mariadbd pid %d ignored SIGTERM; killing it", m.cmd.Process.Pid)
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	m.cmd.Process = nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
