package agents_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/agents"
	"github.com/regify-verify/regify-verify/scenarios/catalogue"
)

// TestSwarmAgents: provider-crash with its users on four replicas of a
// swarm service passes, each agent with its own source addresses, as
// round robin behind four of them fails stickiness; the service and its
// containers are gone after each run, after --swarm-init the swarm is
// left and its bridge removed, and after a coordinator killed with
// SIGKILL 'lab down' removes what it left.
func TestSwarmAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a swarm service; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	defer cli.Close()
	bin, err := harness.Binary()
	require.NoError(t, err)
	image, err := images.EnsureBinary(ctx, images.BinaryOptions{Binary: bin, Docker: cli})
	require.NoError(t, err)
	info, err := cli.Info(ctx, client.InfoOptions{})
	require.NoError(t, err)
	if st := info.Info.Swarm; st.LocalNodeState != swarm.LocalNodeStateInactive && !st.ControlAvailable {
		t.Skipf("this engine is a swarm %s, not a manager: swarm agents need a manager", st.LocalNodeState)
	}
	init := info.Info.Swarm.LocalNodeState == swarm.LocalNodeStateInactive
	_, err = cli.NetworkInspect(ctx, "docker_gwbridge", client.NetworkInspectOptions{})
	hadBridge := err == nil
	if init {
		// Outside a swarm, nothing is initialised unasked.
		_, err := agents.StartSwarm(ctx, nil, agents.SwarmOptions{Agents: 1, Image: image, Docker: cli})
		require.ErrorContains(t, err, "docker swarm init --advertise-addr 127.0.0.1', or pass --swarm-init")
		info, err := cli.Info(ctx, client.InfoOptions{})
		require.NoError(t, err)
		require.Equal(t, swarm.LocalNodeStateInactive, info.Info.Swarm.LocalNodeState)
	}

	swarmRun := func(t *testing.T, n int, spec scenarios.Spec) scenarios.Result {
		run, err := cleanup.NewRun()
		require.NoError(t, err)
		remote, err := agents.NewRemote("127.0.0.1:0", time.Minute)
		require.NoError(t, err)
		eng, err := agents.StartSwarm(ctx, remote, agents.SwarmOptions{Agents: n, Image: image, Init: init, Run: run, Docker: cli})
		require.NoError(t, err)
		cfg := scenarios.Config{Seed: 11, RunID: "swarm", Load: agents.Driver{Agents: n, Engine: eng}}
		res := scenarios.RunAll(t, cfg, 1, spec)
		require.NoError(t, eng.Close(ctx))
		assertNoneLeft(ctx, t, cli, cleanup.LabelRun+"="+run.ID)
		return res[0]
	}
	good := swarmRun(t, 4, catalogue.ProviderCrash)
	bad := swarmRun(t, 4, catalogue.NegRoundRobin)
	assertAgentsJudged(t, []scenarios.Result{good, bad}, 4, "swarm")

	if init {
		info, err := cli.Info(ctx, client.InfoOptions{})
		require.NoError(t, err)
		assert.Equal(t, swarm.LocalNodeStateInactive, info.Info.Swarm.LocalNodeState, "the swarm --swarm-init made is left")
		if !hadBridge {
			_, err := cli.NetworkInspect(ctx, "docker_gwbridge", client.NetworkInspectOptions{})
			assert.Error(t, err, "the bridge swarm init made is removed")
		}
	}

	// A coordinator killed mid-run leaves its service; the next 'lab
	// down' (or run) removes it.
	if init {
		_, err := cli.SwarmInit(ctx, client.SwarmInitOptions{ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1"})
		require.NoError(t, err)
		t.Cleanup(func() {
			_, _ = cli.SwarmLeave(context.Background(), client.SwarmLeaveOptions{Force: true})
			if !hadBridge {
				_, _ = cli.NetworkRemove(context.Background(), "docker_gwbridge", client.NetworkRemoveOptions{})
			}
			// Nothing of the agents outlives the swarm either.
			assertNoneLeft(context.Background(), t, cli, images.OwnLabel+"=agents")
		})
	}
	coord := exec.Command(bin, "run", "--scenario", "provider-crash", "--agents", "2", "--engine", "swarm",
		"--agents-listen", "127.0.0.1:0", "--duration", "20s", "--out", filepath.Join(t.TempDir(), "out"))
	coord.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	coord.Env = os.Environ()
	require.NoError(t, coord.Start())
	ours := images.OwnLabel + "=agents"
	require.Eventually(t, func() bool {
		l, err := cli.ServiceList(ctx, client.ServiceListOptions{Filters: make(client.Filters).Add("label", ours)})
		return err == nil && len(l.Items) == 1
	}, time.Minute, 100*time.Millisecond, "the coordinator never created its service")
	require.NoError(t, syscall.Kill(-coord.Process.Pid, syscall.SIGKILL))
	_ = coord.Wait()
	l, err := cli.ServiceList(ctx, client.ServiceListOptions{Filters: make(client.Filters).Add("label", ours)})
	require.NoError(t, err)
	require.Len(t, l.Items, 1, "a killed coordinator leaves its service (until the sweep)")
	out, err := exec.Command(bin, "lab", "down").CombinedOutput()
	require.NoError(t, err, "lab down: %s", out)
	assertNoneLeft(ctx, t, cli, ours)
}

// assertNoneLeft checks that no swarm service and, once their tasks have
// ended, no container carries label (key=value).
func assertNoneLeft(ctx context.Context, t *testing.T, cli *client.Client, label string) {
	t.Helper()
	f := make(client.Filters).Add("label", label)
	info, err := cli.Info(ctx, client.InfoOptions{})
	require.NoError(t, err)
	if info.Info.Swarm.ControlAvailable { // no swarm, no services
		l, err := cli.ServiceList(ctx, client.ServiceListOptions{Filters: f})
		require.NoError(t, err)
		assert.Empty(t, l.Items, "services with %s", label)
	}
	assert.Eventually(t, func() bool {
		c, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		return err == nil && len(c.Items) == 0
	}, 30*time.Second, 200*time.Millisecond, "containers with %s", label)
}
