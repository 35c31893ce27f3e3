package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/agents"
)

// agentOptions are the flags of --agents, shared by run and check.
type agentOptions struct {
	n                     int
	engine, listen, nodes string
	swarmInit             bool
	kube                  kubeFlags
	runID                 string // names the Kubernetes objects
}

// add registers the flags; unit names what one run of the agents serves
// ("scenario").
func (o *agentOptions) add(fs *flag.FlagSet, unit string) {
	fs.IntVar(&o.n, "agents", 0, "split each "+unit+"'s users over N load agents and judge the merged history (0: the load runs in this process)")
	fs.StringVar(&o.engine, "engine", "local", "where agents run: local (child processes on this machine), docker (plain containers beside the lab's nodes, with --nodes containers), swarm (replicas of a Docker Swarm service from the regify-verify image, on the host's network), kubernetes (the pods of an Indexed Job applied with your kubeconfig, see --agent-image and --agents-advertise; each pod sends from its own address) or remote (they connect to --agents-listen: pods of 'regify-verify agents manifest', or 'regify-verify agent --coordinator URL --index I' anywhere); all but local serve one "+unit+" a run")
	fs.StringVar(&o.listen, "agents-listen", "127.0.0.1:7000", "with --engine remote, swarm or kubernetes: where agents connect")
	fs.BoolVar(&o.swarmInit, "swarm-init", false, "with --engine swarm on an engine outside any swarm: make it a single-node swarm for the run and leave the swarm at the end")
	o.kube.add(fs)
}

// oneScenario refuses more than one scenario for the engines whose agents
// serve one and end.
func (o agentOptions) oneScenario(n int, fix string) error {
	if o.n > 0 && o.engine != "local" && n != 1 {
		return fmt.Errorf("--engine %s: agents serve one scenario and end; %s (%d chosen)", o.engine, fix, n)
	}
	return nil
}

// with completes the options with the run's lab nodes and id.
func (o agentOptions) with(nodes, runID string) agentOptions {
	o.nodes, o.runID = nodes, runID
	return o
}

// checkNodes refuses --nodes values and combinations that cannot run: the
// lab's nodes as containers need their load from containers beside them
// (from this machine every user would have one address, and stickiness
// would pass without being tested).
func checkNodes(nodes string, agents int, engine string) error {
	switch {
	case nodes == harness.NodesInProcess:
		return nil
	case nodes != harness.NodesContainers:
		return fmt.Errorf("--nodes %q: want %s or %s", nodes, harness.NodesInProcess, harness.NodesContainers)
	case agents == 0 || (engine != "swarm" && engine != "docker"):
		return errors.New("--nodes containers: the load must come from containers beside the lab's, each with its own address, or the balancer would see every user as this machine; add --agents N --engine docker (plain containers) or --engine swarm (with --swarm-init on an engine outside a swarm)")
	}
	return nil
}

// agentDriver is the load driver of --agents and --engine: nil without
// agents. done releases what it holds (the remote engine's listener, the
// swarm service).
func agentDriver(ctx context.Context, o agentOptions, base *harness.Options, e *env) (_ scenarios.LoadDriver, done func(), _ error) {
	done = func() {}
	switch {
	case o.swarmInit && (o.n == 0 || o.engine != "swarm"):
		return nil, done, errors.New("--swarm-init makes this engine a swarm for --agents N --engine swarm; drop it, or use it with those")
	case o.n < 0:
		return nil, done, fmt.Errorf("--agents %d: want 0 (no agents) or more", o.n)
	case o.n == 0:
		return nil, done, nil
	}
	switch o.engine {
	case "local":
		return agents.Driver{Agents: o.n, Engine: agents.Local{}, Log: e.log}, done, nil
	case "remote":
		r, err := agents.NewRemote(o.listen, 5*time.Minute)
		if err != nil {
			return nil, done, err
		}
		fmt.Fprintf(e.stderr, "waiting for %d agents at %s: start each with\n  regify-verify agent --coordinator %s --index I   (I = 1 … %d)\n", o.n, r.URL(), r.URL(), o.n)
		return agents.Driver{Agents: o.n, Engine: r, Log: e.log}, func() { _ = r.Close() }, nil
	case "swarm":
		return swarmDriver(ctx, o, base, e)
	case "docker":
		if o.nodes != harness.NodesContainers {
			return nil, done, errors.New("--engine docker runs the agents as containers on the lab's network: it needs --nodes containers (agents on this machine's addresses are --engine local)")
		}
		return dockerDriver(ctx, o, base, e)
	case "kubernetes":
		return kubernetesDriver(ctx, o, e)
	}
	return nil, done, fmt.Errorf("--engine %q: want local, docker, swarm, remote or kubernetes", o.engine)
}

// swarmDriver starts the agents as a swarm service of the regify-verify
// image (built when missing), connecting back to a Remote. With the lab's
// nodes as containers the service's replicas join a lab network made for
// the run, which base's labs then use.
func swarmDriver(ctx context.Context, o agentOptions, base *harness.Options, e *env) (_ scenarios.LoadDriver, done func(), _ error) {
	done = func() {}
	image, err := images.EnsureBinary(ctx, images.BinaryOptions{Log: e.log})
	if err != nil {
		return nil, done, fmt.Errorf("--engine swarm needs the regify-verify image: %w", err)
	}
	run, err := cleanup.NewRun()
	if err != nil {
		return nil, done, err
	}
	so := agents.SwarmOptions{Agents: o.n, Image: image, Init: o.swarmInit, Run: run, Log: e.log}
	var s *agents.Swarm
	if o.nodes == harness.NodesContainers {
		s, err = agents.StartSwarmOnLab(ctx, so, 2*time.Minute)
		if err == nil {
			base.Nodes, base.Network, base.Image = harness.NodesContainers, s.LabNetwork(), image
		}
	} else {
		var r *agents.Remote
		if r, err = agents.NewRemote(o.listen, 2*time.Minute); err != nil {
			return nil, done, err
		}
		if s, err = agents.StartSwarm(ctx, r, so); err != nil {
			_ = r.Close()
		}
	}
	if err != nil {
		return nil, done, err
	}
	return agents.Driver{Agents: o.n, Engine: s, OwnAddress: o.nodes == harness.NodesContainers, Log: e.log}, func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.Close(cctx); err != nil {
			e.log.Warn("end the agents' swarm service", "err", err)
		}
	}, nil
}

// dockerDriver starts the agents as plain containers of the regify-verify
// image (built when missing) on a lab network made for the run, which
// base's labs use for their nodes.
func dockerDriver(ctx context.Context, o agentOptions, base *harness.Options, e *env) (_ scenarios.LoadDriver, done func(), _ error) {
	done = func() {}
	image, err := images.EnsureBinary(ctx, images.BinaryOptions{Log: e.log})
	if err != nil {
		return nil, done, fmt.Errorf("--engine docker needs the regify-verify image: %w", err)
	}
	run, err := cleanup.NewRun()
	if err != nil {
		return nil, done, err
	}
	d, err := agents.StartDockerOnLab(ctx, agents.DockerOptions{Image: image, Run: run, Log: e.log}, 2*time.Minute)
	if err != nil {
		return nil, done, err
	}
	base.Nodes, base.Network, base.Image = harness.NodesContainers, d.LabNetwork(), image
	return agents.Driver{Agents: o.n, Engine: d, OwnAddress: true, Log: e.log}, func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := d.Close(cctx); err != nil {
			e.log.Warn("remove the agents' containers", "err", err)
		}
	}, nil
}
