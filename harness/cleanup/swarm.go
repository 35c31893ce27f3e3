package cleanup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Labels on the swarm node of an engine that a run made a single-node
// swarm manager (--swarm-init): which process did, and whether swarm init
// made docker_gwbridge. A run that ends leaves the swarm itself; after a
// killed one, Sweep does.
const (
	LabelSwarmInit   = "io.regify-verify.swarm-init"
	LabelSwarmBridge = "io.regify-verify.swarm-made-gwbridge"
)

// GWBridge is the bridge network swarm init creates and leaving keeps.
const GWBridge = "docker_gwbridge"

// MarkSwarmInit labels this engine's swarm node as initialised by this
// process, so that a sweep after it was killed leaves the swarm.
func MarkSwarmInit(ctx context.Context, cli *client.Client, madeBridge bool) error {
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return fmt.Errorf("mark the swarm this run initialised: %w", err)
	}
	id := info.Info.Swarm.NodeID
	n, err := cli.NodeInspect(ctx, id, client.NodeInspectOptions{})
	if err != nil {
		return fmt.Errorf("mark the swarm this run initialised: %w", err)
	}
	spec := n.Node.Spec
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	spec.Labels[LabelSwarmInit] = SelfOwner()
	if madeBridge {
		spec.Labels[LabelSwarmBridge] = "true"
	}
	if _, err := cli.NodeUpdate(ctx, id, client.NodeUpdateOptions{Version: n.Node.Version, Spec: spec}); err != nil {
		return fmt.Errorf("mark the swarm this run initialised: %w", err)
	}
	return nil
}

// sweepSwarm leaves the swarm a dead run of ours initialised, once no
// service is left in it (its own were removed before): a swarm with
// anybody else's services is kept. It reports whether it left.
func sweepSwarm(ctx context.Context, cli *client.Client, doomed func(string) bool) (bool, error) {
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return false, fmt.Errorf("read the engine's swarm state: %w", err)
	}
	sw := info.Info.Swarm
	if sw.LocalNodeState != swarm.LocalNodeStateActive || !sw.ControlAvailable {
		return false, nil
	}
	n, err := cli.NodeInspect(ctx, sw.NodeID, client.NodeInspectOptions{})
	if err != nil {
		return false, fmt.Errorf("inspect this swarm node: %w", err)
	}
	owner, ok := n.Node.Spec.Labels[LabelSwarmInit]
	if !ok || !doomed(owner) {
		return false, nil
	}
	sl, err := cli.ServiceList(ctx, client.ServiceListOptions{})
	if err != nil {
		return false, fmt.Errorf("list the swarm's services: %w", err)
	}
	if len(sl.Items) > 0 {
		return false, nil // in use by somebody: keep it
	}
	if _, err := cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
		return false, fmt.Errorf("leave the swarm a killed run initialised: %w", err)
	}
	if n.Node.Spec.Labels[LabelSwarmBridge] == "true" {
		if err := RemoveNetworkWhenFree(ctx, cli, GWBridge); err != nil {
			return true, err
		}
	}
	return true, nil
}

// RemoveNetworkWhenFree removes a network, retrying for up to 15 s while it is
// in use (a swarm's endpoints go a moment after it); one already gone is
// no error.
func RemoveNetworkWhenFree(ctx context.Context, cli *client.Client, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		_, err := cli.NetworkRemove(ctx, name, client.NetworkRemoveOptions{})
		if err == nil || isNotFound(err) || strings.Contains(err.Error(), "not found") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("remove network %s: %w", name, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
