package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
	"github.com/regify-verify/regify-verify/reports"
)

// TestInterruptWritesPartialReport starts a real run of a scenario with the
// MariaDB pair, interrupts it mid-scenario as Ctrl-C does, and checks that
// a partial report marked incomplete is written, the exit code is 2, and no
// container or network of that run is left.
func TestInterruptWritesPartialReport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the lab; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	defer cli.Close()

	dir := t.TempDir()
	bin := filepath.Join(dir, "regify-verify")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run(), "build the binary")

	out := filepath.Join(dir, "out")
	cmd := exec.CommandContext(ctx, bin, "run", "--scenario", "baseline", "--duration", "30s", "--out", out, "--seed", "7")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "TESTCONTAINERS_RYUK_DISABLED=true")
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid

	// Interrupt once the load runs: the history has requests in it.
	hist := filepath.Join(out, "history", "baseline.jsonl")
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(hist)
		return err == nil && bytes.Count(b, []byte(`"type":"request"`)) > 20
	}, 3*time.Minute, 100*time.Millisecond, "the run never started its load; stderr:\n%s", &stderr)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))

	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "run must exit non-zero after an interrupt: %v\n%s", err, &stderr)
	require.Equal(t, exitInvalid, exit.ExitCode(), "an interrupted run cannot be judged\n%s", &stderr)

	rep, err := reports.ReadJSON(filepath.Join(out, "report.json"))
	require.NoError(t, err, "a partial report.json is written")
	require.True(t, rep.Incomplete, "the partial report is marked incomplete")
	require.FileExists(t, filepath.Join(out, "index.html"))

	// Nothing of the interrupted process may be left.
	owner := "/" + strconv.Itoa(pid) + "/"
	f := make(client.Filters).Add("label", cleanup.LabelOwner)
	cl, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	require.NoError(t, err)
	for _, c := range cl.Items {
		require.NotContains(t, c.Labels[cleanup.LabelOwner], owner, "container %v of the interrupted run is left", c.Names)
	}
	nl, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	require.NoError(t, err)
	for _, n := range nl.Items {
		require.False(t, strings.Contains(n.Labels[cleanup.LabelOwner], owner), "network %s of the interrupted run is left", n.Name)
	}
}
