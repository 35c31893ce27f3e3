package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/regify-verify/regify-verify/harness/images"
)

// containerNode is one lab node (the balancer, a provider, the clearing
// service) running as a container of the regify-verify image on the lab
// network: a crash is a real SIGKILL of its process, a pause a real
// freeze (the cgroup freezer), a restart a new process in the same
// container. Its address can change on a restart (a swarm-scoped network
// hands out addresses afresh): the lab follows it.
type containerNode struct {
	role string // "lb", "p1", "clearing": what the lab calls it
	cli  *client.Client
	id   string
	// ready says whether the node serves (a port answers), polled after
	// every start.
	ready func(ctx context.Context, ip netip.Addr) error

	mu     sync.Mutex
	ip     netip.Addr
	paused bool
}

// nodeSpec says what container to run.
type nodeSpec struct {
	Role    string
	Name    string
	Image   string
	Args    []string
	Network string
	Labels  map[string]string
	// Binds are host:container[:ro] bind mounts (the balancer's
	// configuration and certificates).
	Binds []string
	Ready func(ctx context.Context, ip netip.Addr) error
}

// nodeReadyBound bounds a node's start until it serves.
const nodeReadyBound = 20 * time.Second

// startNode creates and starts a node and returns once it serves.
func startNode(ctx context.Context, cli *client.Client, s nodeSpec) (*containerNode, error) {
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       s.Name,
		Config:     &container.Config{Image: s.Image, Cmd: s.Args, Labels: s.Labels},
		HostConfig: &container.HostConfig{Binds: s.Binds},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			s.Network: {},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("create the %s container: %w", s.Role, err)
	}
	n := &containerNode{role: s.Role, cli: cli, id: created.ID, ready: s.Ready}
	if err := n.start(ctx); err != nil {
		return n, err // the caller removes it with the lab
	}
	return n, nil
}

// start starts the container's process, reads its address and waits
// until it serves (or says why it could not).
func (n *containerNode) start(ctx context.Context) error {
	if _, err := n.cli.ContainerStart(ctx, n.id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start the %s container: %w", n.role, err)
	}
	res, err := n.cli.ContainerInspect(ctx, n.id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect the %s container: %w", n.role, err)
	}
	var ip netip.Addr
	if ns := res.Container.NetworkSettings; ns != nil {
		for _, ep := range ns.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				ip = ep.IPAddress
			}
		}
	}
	if !ip.IsValid() {
		return fmt.Errorf("the %s container has no address on the lab network", n.role)
	}
	n.mu.Lock()
	n.ip, n.paused = ip, false
	n.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, nodeReadyBound)
	defer cancel()
	for {
		err := n.ready(rctx, ip)
		if err == nil {
			return nil
		}
		if st, ierr := n.cli.ContainerInspect(rctx, n.id, client.ContainerInspectOptions{}); ierr == nil && st.Container.State != nil && !st.Container.State.Running {
			return fmt.Errorf("the %s container exited (%d) before serving: %s", n.role, st.Container.State.ExitCode, images.ContainerLog(ctx, n.cli, n.id))
		}
		select {
		case <-rctx.Done():
			return fmt.Errorf("the %s container did not serve within %s (%v): %s", n.role, nodeReadyBound, err, images.ContainerLog(ctx, n.cli, n.id))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// addr is the node's address now.
func (n *containerNode) addr() netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ip
}

// kill sends the container's process SIGKILL and waits until the engine
// has it stopped: a power loss.
func (n *containerNode) kill(ctx context.Context) error {
	if _, err := n.cli.ContainerKill(ctx, n.id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil && !strings.Contains(err.Error(), "is not running") {
		return fmt.Errorf("kill the %s container: %w", n.role, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		st, err := n.cli.ContainerInspect(wctx, n.id, client.ContainerInspectOptions{})
		if err != nil {
			return fmt.Errorf("inspect the killed %s container: %w", n.role, err)
		}
		if st.Container.State != nil && !st.Container.State.Running {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("the %s container still runs 10 s after SIGKILL", n.role)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pause freezes every process of the container (on) or thaws them: the
// kernel still accepts connections into the backlog, nobody answers.
func (n *containerNode) pause(ctx context.Context, on bool) error {
	var err error
	if on {
		_, err = n.cli.ContainerPause(ctx, n.id, client.ContainerPauseOptions{})
	} else {
		_, err = n.cli.ContainerUnpause(ctx, n.id, client.ContainerUnpauseOptions{})
	}
	if err != nil {
		return fmt.Errorf("pause=%v the %s container: %w", on, n.role, err)
	}
	n.mu.Lock()
	n.paused = on
	n.mu.Unlock()
	return nil
}

// remove removes the container whatever its state.
func (n *containerNode) remove(ctx context.Context) error {
	if n == nil || n.id == "" {
		return nil
	}
	if _, err := n.cli.ContainerRemove(ctx, n.id, client.ContainerRemoveOptions{Force: true}); err != nil && !strings.Contains(err.Error(), "No such container") {
		return fmt.Errorf("remove the %s container: %w", n.role, err)
	}
	return nil
}

// tcpReady is a Ready that waits until every port accepts a connection.
func tcpReady(ports ...int) func(ctx context.Context, ip netip.Addr) error {
	return func(ctx context.Context, ip netip.Addr) error {
		var d net.Dialer
		for _, p := range ports {
			dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			c, err := d.DialContext(dctx, "tcp", netip.AddrPortFrom(ip, uint16(p)).String())
			cancel()
			if err != nil {
				return err
			}
			c.Close()
		}
		return nil
	}
}

// errNoNode is returned by handles that need a container node the lab
// does not run.
var errNoNode = errors.New("no such container node")
