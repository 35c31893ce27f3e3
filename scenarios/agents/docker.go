package agents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
)

// DockerOptions say how to run the agents as plain containers.
type DockerOptions struct {
	// Image is the regify-verify image (images.EnsureBinary).
	Image string
	// Run labels the containers and the lab network, so that a sweep
	// after a killed run removes them ('regify-verify lab down').
	Run *cleanup.Run
	// Docker is an engine client; nil means images.NewDockerClient.
	Docker *client.Client
	Log    *slog.Logger
}

// Docker is the engine that runs each agent as a plain container of the
// regify-verify image on a lab network of its own (a local bridge), where
// the lab's nodes run as containers too (harness.NodesContainers): what
// the swarm engine does, on an engine that is no swarm manager and need
// not become one. Agent i is started when the driver asks for it and
// connects back to the Remote on the network's gateway.
type Docker struct {
	*Remote
	o      DockerOptions
	cli    *client.Client
	ownCli bool
	lab    *harness.LabNetwork

	mu  sync.Mutex
	ids []string
}

// StartDockerOnLab creates the lab network and listens for the agents on
// its gateway; the containers start with the load (Start). Close removes
// them and the network. wait bounds each agent's connection.
func StartDockerOnLab(ctx context.Context, o DockerOptions, wait time.Duration) (_ *Docker, err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Run == nil || o.Image == "" {
		return nil, errors.New("docker agents: the run that labels them and the regify-verify image are both needed")
	}
	d := &Docker{o: o, cli: o.Docker}
	if d.cli == nil {
		if d.cli, err = images.NewDockerClient(ctx); err != nil {
			return nil, fmt.Errorf("docker agents: %w", err)
		}
		d.ownCli = true
	}
	defer func() {
		if err != nil {
			_ = d.Close(context.WithoutCancel(ctx))
		}
	}()
	if d.lab, err = harness.CreateLabNetwork(ctx, d.cli, o.Run, false); err != nil {
		return nil, err
	}
	ln, err := harness.ListenFree(ctx, net.JoinHostPort(d.lab.Gateway.String(), "0"))
	if err != nil {
		return nil, fmt.Errorf("listen for the agents on the lab network: %w", err)
	}
	d.Remote = NewRemoteOn(ln, wait)
	return d, nil
}

// LabNetwork is the network the agents and the lab's nodes share.
func (d *Docker) LabNetwork() *harness.LabNetwork { return d.lab }

// Name implements Engine.
func (d *Docker) Name() string { return "docker" }

// Start implements Engine: it starts the task's agent as a container and
// waits for it to connect.
func (d *Docker) Start(ctx context.Context, t Task) (Conn, error) {
	i, err := strconv.Atoi(strings.TrimPrefix(t.Agent, "a"))
	if err != nil {
		return nil, fmt.Errorf("agent %q: no index", t.Agent)
	}
	labels := map[string]string{images.OwnLabel: "agents"}
	maps.Copy(labels, d.o.Run.Labels())
	created, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: d.o.Run.Name("agent", strconv.Itoa(i)),
		Config: &container.Config{Image: d.o.Image, Labels: labels,
			Cmd: []string{"agent", "--coordinator", d.URL(), "--index", strconv.Itoa(i)}},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{d.lab.Name: {}}},
	})
	if err != nil {
		return nil, fmt.Errorf("create the container of agent %d: %w", i, err)
	}
	d.mu.Lock()
	d.ids = append(d.ids, created.ID)
	d.mu.Unlock()
	if _, err := d.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return nil, fmt.Errorf("start the container of agent %d: %w", i, err)
	}
	return d.Remote.Start(ctx, t)
}

// Close removes the agents' containers and the lab network and stops
// listening.
func (d *Docker) Close(ctx context.Context) error {
	var errs []error
	d.mu.Lock()
	ids := d.ids
	d.ids = nil
	d.mu.Unlock()
	for _, id := range ids {
		if _, err := d.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil && !strings.Contains(err.Error(), "No such container") {
			errs = append(errs, fmt.Errorf("remove an agent's container: %w", err))
		}
	}
	if d.lab != nil {
		errs = append(errs, d.lab.Remove(ctx))
	}
	if d.Remote != nil {
		errs = append(errs, d.Remote.Close())
	}
	if d.ownCli {
		errs = append(errs, d.cli.Close())
	}
	return errors.Join(errs...)
}
