package agents_test

import (
	"context"
	"net/netip"
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

// TestSwarmAgents: provider-crash with the lab's nodes as containers and
// its users on four replicas of a swarm service beside them passes, the
// balancer seeing each agent by its own container address, as round
// robin behind four of them fails stickiness; the service, the nodes and
// the lab network are gone after each run, after --swarm-init the swarm
// is left and its bridge removed; a coordinator stopped by Ctrl-C leaves
// nothing (agents on the host's network, then the lab's nodes as
// containers), and after one killed with SIGKILL 'lab down' removes what
// it left, the swarm it initialised included.
func TestSwarmAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a swarm service; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cli, image := binaryImage(ctx, t)
	bin, err := harness.Binary()
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

	// The lab's nodes as containers beside the agents: the balancer sees
	// each agent by its own container address.
	swarmRun := func(t *testing.T, n int, spec scenarios.Spec) scenarios.Result {
		run, err := cleanup.NewRun()
		require.NoError(t, err)
		eng, err := agents.StartSwarmOnLab(ctx, agents.SwarmOptions{Agents: n, Image: image, Init: init, Run: run, Docker: cli}, time.Minute)
		require.NoError(t, err)
		lab := eng.LabNetwork()
		cfg := scenarios.Config{Seed: 11, RunID: "swarm", Load: agents.Driver{Agents: n, Engine: eng, OwnAddress: true},
			Base: harness.Options{Nodes: harness.NodesContainers, Network: lab, Image: image}}
		res := scenarios.RunAll(t, cfg, 1, spec)
		require.NoError(t, eng.Close(ctx))
		assertNoneLeft(ctx, t, cli, cleanup.LabelRun+"="+run.ID)
		assertNetworkGone(ctx, t, cli, lab.Name)
		assertOwnAddresses(t, res[0], lab, n)
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

	// A coordinator stopped by Ctrl-C (agents on the host's network)
	// removes everything before it exits.
	coordinator := func(extra ...string) *exec.Cmd {
		args := append([]string{"run", "--scenario", "provider-crash", "--agents", "2", "--engine", "swarm",
			"--agents-listen", "127.0.0.1:0", "--duration", "20s", "--out", filepath.Join(t.TempDir(), "out")}, extra...)
		if init {
			args = append(args, "--swarm-init")
		}
		c := exec.Command(bin, args...)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.Env = os.Environ()
		require.NoError(t, c.Start())
		return c
	}
	ours := images.OwnLabel + "=agents"
	waitFor := func(what string, f client.Filters) {
		require.Eventually(t, func() bool {
			l, err := cli.ContainerList(ctx, client.ContainerListOptions{Filters: f})
			return err == nil && len(l.Items) > 0
		}, time.Minute, 100*time.Millisecond, "the coordinator never started its %s", what)
	}
	coord := coordinator()
	waitFor("agents", make(client.Filters).Add("label", ours))
	require.NoError(t, syscall.Kill(-coord.Process.Pid, syscall.SIGINT))
	_ = coord.Wait()
	assertNoneLeft(ctx, t, cli, ours)
	assertSwarmLeft(ctx, t, cli, init)
	// The same with the lab's nodes as containers, stopped once its
	// balancer runs: nodes, service and lab network go too.
	coord = coordinator("--nodes", "containers")
	waitFor("balancer", make(client.Filters).Add("label", images.OwnLabel+"=lab-lb"))
	require.NoError(t, syscall.Kill(-coord.Process.Pid, syscall.SIGINT))
	_ = coord.Wait()
	assertNothingOfOursLeft(ctx, t, cli, init)

	// A coordinator killed mid-run (lab nodes as containers) leaves its
	// service, its nodes and its lab network, and the swarm it
	// initialised; the next 'lab down' (or run) removes them all.
	coord = coordinator("--nodes", "containers")
	waitFor("balancer", make(client.Filters).Add("label", images.OwnLabel+"=lab-lb"))
	require.NoError(t, syscall.Kill(-coord.Process.Pid, syscall.SIGKILL))
	_ = coord.Wait()
	l, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", images.OwnLabel+"=lab-lb")})
	require.NoError(t, err)
	require.Len(t, l.Items, 1, "a killed coordinator leaves its balancer container (until the sweep)")
	out, err := exec.Command(bin, "lab", "down").CombinedOutput()
	require.NoError(t, err, "lab down: %s", out)
	assertNothingOfOursLeft(ctx, t, cli, init)
}

// assertNothingOfOursLeft checks that no agent, no lab node container
// and no lab network is left, and the swarm a run initialised is left.
func assertNothingOfOursLeft(ctx context.Context, t *testing.T, cli *client.Client, init bool) {
	t.Helper()
	assertNoneLeft(ctx, t, cli, images.OwnLabel+"=agents")
	for _, role := range []string{"lb", "p1", "p2", "clearing"} {
		assertNoneLeft(ctx, t, cli, images.OwnLabel+"=lab-"+role)
	}
	nl, err := cli.NetworkList(ctx, client.NetworkListOptions{})
	require.NoError(t, err)
	for _, n := range nl.Items {
		assert.NotContains(t, n.Name, "-lab", "network %s left", n.Name)
	}
	assertSwarmLeft(ctx, t, cli, init)
}

// binaryImage is a Docker client (closed with the test) and the
// regify-verify image of the test's binary; without an engine the test
// is skipped.
func binaryImage(ctx context.Context, t *testing.T) (*client.Client, string) {
	t.Helper()
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	bin, err := harness.Binary()
	require.NoError(t, err)
	image, err := images.EnsureBinary(ctx, images.BinaryOptions{Binary: bin, Docker: cli})
	require.NoError(t, err)
	return cli, image
}

// assertOwnAddresses checks a run with the lab's nodes as containers and
// n agents in containers beside them: each agent sent from one address of
// its own on the lab network, and the balancer saw it as that address.
func assertOwnAddresses(t *testing.T, res scenarios.Result, lab *harness.LabNetwork, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, a := range res.Report.Agents {
		require.Len(t, a.SourceIPs, 1, "%s: one container, one address", a.ID)
		assert.True(t, lab.Subnet.Contains(netip.MustParseAddr(a.SourceIPs[0])), "%s sent from %s, outside the lab network %s", a.ID, a.SourceIPs[0], lab.Subnet)
		assert.Equal(t, a.SourceIPs, a.SeenAs, "%s: the balancer saw the agent's own address", a.ID)
		seen[a.SourceIPs[0]] = true
	}
	assert.Len(t, seen, n, "every agent its own address")
	assert.Equal(t, harness.NodesContainers, res.Report.Topology.Nodes)
}

// assertNetworkGone checks that the network name no longer exists.
func assertNetworkGone(ctx context.Context, t *testing.T, cli *client.Client, name string) {
	t.Helper()
	_, err := cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	assert.Error(t, err, "network %s left", name)
}

// assertSwarmLeft checks, when the test's runs initialised the swarm
// (--swarm-init), that the engine is out of it again.
func assertSwarmLeft(ctx context.Context, t *testing.T, cli *client.Client, init bool) {
	t.Helper()
	if !init {
		return
	}
	info, err := cli.Info(ctx, client.InfoOptions{})
	require.NoError(t, err)
	assert.Equal(t, swarm.LocalNodeStateInactive, info.Info.Swarm.LocalNodeState, "the swarm a run initialised is left")
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
