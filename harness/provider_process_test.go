package harness

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/internal/testbin"
)

// buildBinary builds regify-verify for tests whose providers are
// processes, and points EnvBinary at it.
func buildBinary(t *testing.T) {
	t.Helper()
	cleanup, err := testbin.Setenv()
	require.NoError(t, err)
	t.Cleanup(cleanup)
}

// TestLabProviderProcesses: providers as processes of their own answer
// through the balancer; a crash is a real SIGKILL (the process is gone),
// a restart a new process on the same addresses, a pause a real SIGSTOP
// the balancer's timed checks see; Close leaves no child behind.
func TestLabProviderProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a MariaDB pair and provider processes; skipped with -short")
	}
	buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	plan, err := DefaultPlan(4, false)
	require.NoError(t, err)
	lab, err := Up(ctx, Options{Plan: plan, Database: DatabasePair, Providers: ProvidersProcess, DB: PairOptions{Backend: testBackend()}})
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = lab.Close(context.Background())
		}
	})
	before := lab.Internal()["p1"]["abc.test"]
	pid := lab.ProviderPID("p1")
	require.NotZero(t, pid)
	resp, err := http.Get("http://" + before + "/health")
	require.NoError(t, err)
	resp.Body.Close()

	bound := 10 * time.Second
	require.NoError(t, lab.CrashProvider(ctx, "p1"))
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "the killed process is gone")
	require.NoError(t, lab.WaitProvider(ctx, "p1", false, bound), "a killed provider is taken out")
	require.NoError(t, lab.RestartProvider(ctx, "p1"))
	assert.NotEqual(t, pid, lab.ProviderPID("p1"), "a restart is a new process")
	assert.Equal(t, before, lab.Internal()["p1"]["abc.test"], "on the same address")
	require.NoError(t, lab.WaitProvider(ctx, "p1", true, bound))

	require.NoError(t, lab.PauseProvider(ctx, "p2", true))
	require.NoError(t, lab.WaitProvider(ctx, "p2", false, bound), "a frozen provider is taken out by timed checks")
	require.NoError(t, lab.PauseProvider(ctx, "p2", false))
	require.NoError(t, lab.WaitProvider(ctx, "p2", true, bound))
	require.Error(t, lab.HangProvider(ctx, "p2", true), "a process has no hang switch")

	pids := []int{lab.ProviderPID("p1"), lab.ProviderPID("p2")}
	require.NoError(t, lab.Close(ctx))
	closed = true
	for _, p := range pids {
		assert.ErrorIs(t, syscall.Kill(p, 0), syscall.ESRCH, "provider process %d ended with the lab", p)
	}
}

// TestProviderProcessesRefusedWithoutPair: the memory store cannot be
// shared between processes, and the error says so.
func TestProviderProcessesRefusedWithoutPair(t *testing.T) {
	_, err := Up(context.Background(), Options{Providers: ProvidersProcess})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "provider processes need the MariaDB pair")
}

// testBackend is the pair's backend for these tests: two local mariadbd
// when MariaDB is installed (up in about a second), else the default.
func testBackend() string {
	if _, err := exec.LookPath("mariadbd"); err == nil {
		return BackendProcess
	}
	if _, err := os.Stat("/usr/sbin/mariadbd"); err == nil {
		return BackendProcess
	}
	return ""
}
