package agents_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/agents"
	"github.com/regify-verify/regify-verify/scenarios/catalogue"
)

// TestDockerAgents: provider-crash with the lab's nodes as containers and
// its users on four plain agent containers beside them (no swarm) passes,
// the balancer seeing each agent by its own address; the agents' and the
// nodes' containers and the lab network are gone after Close.
func TestDockerAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containers; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli, image := binaryImage(ctx, t)
	run, err := cleanup.NewRun()
	require.NoError(t, err)
	eng, err := agents.StartDockerOnLab(ctx, agents.DockerOptions{Image: image, Run: run, Docker: cli}, time.Minute)
	require.NoError(t, err)
	lab := eng.LabNetwork()
	cfg := scenarios.Config{Seed: 11, RunID: "docker", Load: agents.Driver{Agents: 4, Engine: eng, OwnAddress: true},
		Base: harness.Options{Nodes: harness.NodesContainers, Network: lab, Image: image}}
	res := scenarios.RunAll(t, cfg, 1, catalogue.ProviderCrash)
	require.NoError(t, eng.Close(ctx))
	assertAgentsJudged(t, res, 4, "docker")
	assertOwnAddresses(t, res[0], lab, 4)
	assertNoneLeft(ctx, t, cli, cleanup.LabelRun+"="+run.ID)
	assertNetworkGone(ctx, t, cli, lab.Name)
	assertNothingOfOursLeft(ctx, t, cli, false)
}
