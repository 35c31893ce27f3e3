package agents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
)

// EnvAgentIndex is where an agent started by a swarm service finds its
// number: the service sets it to the task's slot (1 to N).
const EnvAgentIndex = "REGIFY_VERIFY_AGENT_INDEX"

// SwarmOptions say how to run the agents as a Docker Swarm service.
type SwarmOptions struct {
	// Agents is the service's replicas, one agent each.
	Agents int
	// LabNetwork puts the replicas on a lab network of their own
	// (StartSwarmOnLab sets it) instead of the host's network.
	LabNetwork bool
	// Image is the regify-verify image (images.EnsureBinary).
	Image string
	// Init lets the engine become a single-node swarm manager when it is
	// no swarm member; the swarm is left again at Close. Without it an
	// engine outside a swarm is refused with the command to run.
	Init bool
	// Run labels the service, so that a sweep after a killed run removes
	// it ('regify-verify lab down').
	Run *cleanup.Run
	// Docker is an engine client; nil means images.NewDockerClient.
	Docker *client.Client
	Log    *slog.Logger
}

// Swarm is the engine that runs the agents as the replicas of one swarm
// service from the regify-verify image, each connecting back to a Remote
// as agent number {{.Task.Slot}}. The replicas use the host's network
// namespace: they reach a lab on loopback, and each binds its users' own
// source addresses as a local agent does, so the balancer sees every
// user's address. They serve one scenario and end (restart: none).
type Swarm struct {
	*Remote
	o SwarmOptions
	// lab is the lab network the replicas join (StartSwarmOnLab), nil
	// when they use the host's network.
	lab     *harness.LabNetwork
	cli     *client.Client
	ownCli  bool
	service string
	joined  bool // this engine initialised the swarm: it leaves it
	// gwbridge: swarm init made docker_gwbridge, which leaving keeps.
	gwbridge bool
}

// StartSwarm creates the service (the engine initialising a swarm first
// when o.Init allows it), its replicas on the host's network connecting
// to remote. Close removes it.
func StartSwarm(ctx context.Context, remote *Remote, o SwarmOptions) (*Swarm, error) {
	return startSwarm(ctx, o, func(*harness.LabNetwork) (*Remote, error) { return remote, nil })
}

// StartSwarmOnLab creates a lab network (harness.LabNetwork, swarm-scoped)
// for the lab's nodes as containers, listens for the agents on its
// gateway, and creates the service with its replicas on that network:
// the balancer sees each agent by its own container address. Close
// removes the service and then the network. wait bounds each agent's
// connection.
func StartSwarmOnLab(ctx context.Context, o SwarmOptions, wait time.Duration) (*Swarm, error) {
	o.LabNetwork = true
	if o.Run == nil {
		return nil, errors.New("swarm agents on a lab network: the run that labels it is missing")
	}
	return startSwarm(ctx, o, func(n *harness.LabNetwork) (*Remote, error) {
		ln, err := harness.ListenFree(ctx, net.JoinHostPort(n.Gateway.String(), "0"))
		if err != nil {
			return nil, fmt.Errorf("listen for the agents on the lab network: %w", err)
		}
		return NewRemoteOn(ln, wait), nil
	})
}

// LabNetwork is the network the replicas join, nil on the host's.
func (s *Swarm) LabNetwork() *harness.LabNetwork { return s.lab }

func startSwarm(ctx context.Context, o SwarmOptions, remoteFor func(*harness.LabNetwork) (*Remote, error)) (_ *Swarm, err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Agents < 1 {
		return nil, fmt.Errorf("swarm agents: want at least 1, got %d", o.Agents)
	}
	s := &Swarm{o: o, cli: o.Docker}
	if s.cli == nil {
		if s.cli, err = images.NewDockerClient(ctx); err != nil {
			return nil, fmt.Errorf("swarm agents: %w", err)
		}
		s.ownCli = true
	}
	defer func() {
		if err != nil {
			_ = s.Close(context.WithoutCancel(ctx))
		}
	}()
	if err := s.ensureManager(ctx); err != nil {
		return nil, err
	}
	network := "host"
	if o.LabNetwork {
		if s.lab, err = harness.CreateLabNetwork(ctx, s.cli, o.Run, true); err != nil {
			return nil, err
		}
		network = s.lab.Name
	}
	if s.Remote, err = remoteFor(s.lab); err != nil {
		return nil, err
	}
	replicas := uint64(o.Agents)
	labels := map[string]string{images.OwnLabel: "agents"}
	if o.Run != nil {
		for k, v := range o.Run.Labels() {
			labels[k] = v
		}
	}
	name := "regify-verify-agents"
	if o.Run != nil {
		name = o.Run.Name("agents")
	}
	res, err := s.cli.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name, Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:  o.Image,
				Labels: labels,
				Args:   []string{"agent", "--coordinator", s.Remote.URL()},
				Env:    []string{EnvAgentIndex + "={{.Task.Slot}}"},
			},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: network}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
	}})
	if err != nil {
		return nil, fmt.Errorf("create the agents' swarm service: %w", err)
	}
	s.service = res.ID
	o.Log.Info("agents started as a swarm service", "service", name, "replicas", o.Agents)
	return s, nil
}

// ensureManager checks that the engine manages a swarm, or makes it one.
func (s *Swarm) ensureManager(ctx context.Context) error {
	info, err := s.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return fmt.Errorf("swarm agents: read the engine's state: %w", err)
	}
	sw := info.Info.Swarm
	switch {
	case sw.LocalNodeState == swarm.LocalNodeStateActive && sw.ControlAvailable:
		return nil
	case sw.LocalNodeState == swarm.LocalNodeStateActive:
		return errors.New("--engine swarm: this Docker engine is a swarm worker; run regify-verify on a manager node")
	case sw.LocalNodeState != swarm.LocalNodeStateInactive:
		return fmt.Errorf("--engine swarm: this Docker engine's swarm state is %q; fix it (docker info) and run again", sw.LocalNodeState)
	case !s.o.Init:
		return errors.New("--engine swarm: this Docker engine is not in a swarm; make it a manager with 'docker swarm init --advertise-addr 127.0.0.1', or pass --swarm-init to let this run do so and leave the swarm again at its end")
	}
	_, err = s.cli.NetworkInspect(ctx, cleanup.GWBridge, client.NetworkInspectOptions{})
	hadBridge := err == nil
	if _, err := s.cli.SwarmInit(ctx, client.SwarmInitOptions{ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1"}); err != nil {
		return fmt.Errorf("--swarm-init: docker swarm init: %w", err)
	}
	s.joined, s.gwbridge = true, !hadBridge
	// Should this process be killed, the next sweep leaves the swarm.
	if err := cleanup.MarkSwarmInit(ctx, s.cli, s.gwbridge); err != nil {
		return err
	}
	s.o.Log.Info("this engine is a single-node swarm for the run; it leaves it at the end")
	return nil
}

// Name implements Engine.
func (s *Swarm) Name() string { return "swarm" }

// Close removes the service, waits for its containers to go, leaves a
// swarm this engine initialised and stops listening.
func (s *Swarm) Close(ctx context.Context) error {
	var errs []error
	if s.service != "" {
		if _, err := s.cli.ServiceRemove(ctx, s.service, client.ServiceRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove the agents' swarm service: %w", err))
		} else {
			errs = append(errs, s.waitGone(ctx))
		}
	}
	if s.lab != nil {
		errs = append(errs, s.lab.Remove(ctx))
	}
	if s.joined {
		if _, err := s.cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("leave the swarm this run initialised: %w", err))
		} else if s.gwbridge {
			errs = append(errs, cleanup.RemoveNetworkWhenFree(ctx, s.cli, cleanup.GWBridge))
		}
	}
	if s.Remote != nil {
		errs = append(errs, s.Remote.Close())
	}
	if s.ownCli {
		errs = append(errs, s.cli.Close())
	}
	return errors.Join(errs...)
}

// waitGone waits until no container of the service is left.
func (s *Swarm) waitGone(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	f := make(client.Filters).Add("label", "com.docker.swarm.service.id="+s.service)
	for {
		l, err := s.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		if err == nil && len(l.Items) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containers of the agents' swarm service still there after 30 s: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
