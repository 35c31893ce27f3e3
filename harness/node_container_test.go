package harness

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
)

// TestContainerNodes: a lab whose nodes are containers (on a plain bridge
// lab network here; a swarm's is TestSwarmAgents') comes up with every
// backend in service; a provider crash is its container's process killed
// (the engine reports it stopped) and the balancer takes it out; a
// restart brings it back, the wires following its address; a pause
// freezes the container (the engine reports it paused) and a thaw brings
// it back; closing removes the containers, the network goes with Remove.
func TestContainerNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containers and a MariaDB pair; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	defer cli.Close()
	buildBinary(t)
	bin, err := Binary()
	require.NoError(t, err)
	image, err := images.EnsureBinary(ctx, images.BinaryOptions{Binary: bin, Docker: cli})
	require.NoError(t, err)
	run, err := cleanup.NewRun()
	require.NoError(t, err)
	network, err := CreateLabNetwork(ctx, cli, run, false)
	require.NoError(t, err)
	defer func() { assert.NoError(t, network.Remove(context.Background())) }()

	lab, err := Up(ctx, Options{RunID: run.ID + "-nodes", Nodes: NodesContainers, Network: network, Image: image, Database: DatabasePair})
	require.NoError(t, err)
	closed := false
	defer func() {
		if !closed {
			_ = lab.Close(context.Background())
		}
	}()
	state := func(role string) string {
		l, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true,
			Filters: make(client.Filters).Add("label", cleanup.LabelRun+"="+run.ID+"-nodes").Add("label", images.OwnLabel+"=lab-"+role)})
		require.NoError(t, err)
		require.Len(t, l.Items, 1, "one %s container", role)
		return string(l.Items[0].State)
	}
	for _, role := range []string{"lb", "p1", "p2", "clearing"} {
		assert.Equal(t, "running", state(role), role)
	}
	for _, ep := range lab.Endpoints() {
		assert.True(t, network.Subnet.Contains(ep.PublicIP), "%s on the lab network: %s", ep.Name, ep.PublicIP)
	}
	const bound = 10 * time.Second

	require.NoError(t, lab.CrashProvider(ctx, "p1"))
	assert.Equal(t, "exited", state("p1"), "a crash kills the container's process")
	assert.Equal(t, []bool{true, true}, cutLinks(lab, "p1"), "and cuts the balancer's wires to it: a dead container does not refuse")
	require.NoError(t, lab.WaitProvider(ctx, "p1", false, bound), "the balancer takes it out")
	require.NoError(t, lab.RestartProvider(ctx, "p1"))
	assert.Equal(t, "running", state("p1"))
	require.NoError(t, lab.WaitProvider(ctx, "p1", true, bound), "a restarted provider comes back on its address")
	assert.Equal(t, []bool{false, false}, cutLinks(lab, "p1"), "its wires are mended")

	require.NoError(t, lab.PauseProvider(ctx, "p2", true))
	assert.Equal(t, "paused", state("p2"), "a pause freezes the container")
	require.NoError(t, lab.WaitProvider(ctx, "p2", false, bound), "a frozen provider is taken out")
	require.NoError(t, lab.PauseProvider(ctx, "p2", false))
	require.NoError(t, lab.WaitProvider(ctx, "p2", true, bound))

	cleared, err := lab.Cleared(ctx)
	require.NoError(t, err, "the clearing container's records are read")
	assert.Empty(t, cleared, "nothing was sent")

	require.NoError(t, lab.Close(ctx))
	closed = true
	l, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", cleanup.LabelRun+"="+run.ID+"-nodes")})
	require.NoError(t, err)
	assert.Empty(t, l.Items, "the lab's containers are removed")
}

// cutLinks says, for each of the balancer's wires to provider, whether it
// is cut.
func cutLinks(lab *Lab, provider string) []bool {
	var out []bool
	for _, st := range lab.LinkStates() {
		if slices.Contains(lab.BalancerLinks(provider), st.Name) {
			out = append(out, st.Cut)
		}
	}
	return out
}
