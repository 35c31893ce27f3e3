package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/reports"
)

// unreachableWithHooks is a deployment whose balancer is absent (fast
// failures) with one fault hook.
func unreachableWithHooks(t *testing.T, inject, recoverCmd, hold string) *Deployment {
	t.Helper()
	return writeDeployment(t, fmt.Sprintf(`name: hooks
domains:
  - name: abc.test
    https: https://abc.test:%d/
    address: 127.0.5.1
clients:
  source_ips: 127.0.10.1-127.0.10.2
load: {users: 2, rate: 20, duration: 1s, timeout: 1s}
faults:
  - name: h1
    inject: %q
    recover: %q
    hold: %s
    timeout: 10s
stop:
  max_error_rate: 100%%
`, closedPort(t, "127.0.5.1"), inject, recoverCmd, hold))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestFaultsNeedAllowFaults(t *testing.T) {
	dir := t.TempDir()
	d := unreachableWithHooks(t, "touch "+filepath.Join(dir, "injected"), "true", "1s")
	rep, err := Check(context.Background(), d, Options{Seed: 1, RunID: "noallow"})
	require.NoError(t, err)
	assert.Len(t, rep.Scenarios, 1, "no fault scenario without AllowFaults")
	assert.False(t, exists(filepath.Join(dir, "injected")), "the inject hook ran without AllowFaults")
}

func TestFaultRecoverRunsWhenInjectFails(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "recovered")
	d := unreachableWithHooks(t, "echo cannot stop it >&2; exit 3", "touch "+marker, "1s")
	rep, err := Check(context.Background(), d, Options{Seed: 1, RunID: "injfail", AllowFaults: true})
	require.NoError(t, err)
	require.Len(t, rep.Scenarios, 2)
	sc := rep.Scenarios[1]
	assert.Equal(t, "hooks/h1", sc.Name)
	assert.Equal(t, reports.Error, sc.Verdict)
	assert.Contains(t, sc.Error, "inject hook of fault h1 failed: exit status 3: cannot stop it")
	assert.True(t, exists(marker), "recover hook did not run after a failed inject")
}

func TestFaultRecoverRunsOnCancel(t *testing.T) {
	dir := t.TempDir()
	injected, recovered := filepath.Join(dir, "injected"), filepath.Join(dir, "recovered")
	d := unreachableWithHooks(t, "touch "+injected, "touch "+recovered, "60s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Ctrl-C as soon as the fault is in.
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if exists(injected) || ctx.Err() != nil {
				cancel()
				return
			}
		}
	}()
	start := time.Now()
	rep, err := Check(ctx, d, Options{Seed: 1, RunID: "cancel", AllowFaults: true})
	require.Error(t, err)
	require.NotNil(t, rep)
	assert.True(t, rep.Incomplete)
	assert.True(t, exists(recovered), "recover hook did not run on cancel")
	assert.Less(t, time.Since(start), 30*time.Second, "cancel did not cut the 60s hold short")
}

// A balancer frozen by the fault makes requests fail; the stop condition
// aborts the fault long before its hold ends and recovers at once.
func TestFaultStopConditionAborts(t *testing.T) {
	// Its own processes on its own ports: beside the other long tests.
	t.Parallel()
	bin := lookBinary(t, haproxyBin, "haproxy")
	rig := newRig(t)
	cfg := rig.render(t, filepath.Join("..", "..", "examples", "haproxy", "good.cfg.tmpl"))
	pid, exited := startProcessPID(t, bin, "-db", "-f", cfg)
	rig.waitReady(t, exited)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	d := rig.deployment(t, fmt.Sprintf(`faults:
  - name: freeze-balancer
    inject: kill -STOP %[1]d
    recover: kill -CONT %[1]d
    hold: 6s
stop:
  max_error_rate: 50%%
  window: 1s
  min_requests: 3
`, pid))
	d.Load.Timeout = 300 * time.Millisecond
	rep, err := Check(context.Background(), d, Options{Seed: 3, RunID: "stop", AllowFaults: true, Duration: 2 * time.Second})
	require.NoError(t, err)
	require.Len(t, rep.Scenarios, 2)
	sc := &rep.Scenarios[1]
	logScenario(t, sc)
	require.Empty(t, sc.Error)
	stop := findVerdict(t, sc, NameStopCondition)
	assert.Equal(t, reports.Fail, stop.Verdict)
	require.Len(t, sc.Faults, 1)
	f := sc.Faults[0]
	require.False(t, f.Recovered.IsZero(), "the fault was not recovered")
	assert.Less(t, f.Recovered.Sub(f.Injected), 4*time.Second, "recovered only after the hold, not at the breach")
	assert.NotEqual(t, reports.Fail, findVerdict(t, sc, NameReachability).Verdict)
}
