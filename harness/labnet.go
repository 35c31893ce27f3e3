package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/regify-verify/regify-verify/harness/cleanup"
)

// A LabNetwork is the Docker network that lab nodes running as containers
// (Options.Nodes = NodesContainers) and the load agents beside them share:
// the balancer sees each agent's own container address as its client IP.
// It has a subnet of its own with the gateway at .1, the address this
// process has on it: the lab's wires (toxiproxy) and the coordinator
// listen there. With Swarm it is a swarm-scoped, attachable bridge (a
// swarm service's tasks may join it, and this machine still reaches every
// address on it, which an overlay would not allow); its subnet then comes
// from a config-only network beside it.
type LabNetwork struct {
	Name    string
	Subnet  netip.Prefix
	Gateway netip.Addr
	Swarm   bool

	config string // the config-only network of a swarm-scoped one
	cli    *client.Client
}

// labSubnets is where lab networks draw their /24 from: the upper half of
// the benchmarking range (RFC 2544), which no real network routes; the
// MariaDB replication networks draw from the lower half.
var labSubnets = netip.MustParsePrefix("198.19.0.0/16")

// labSubnetTries bounds the draws of a subnet no other network uses.
const labSubnetTries = 32

// CreateLabNetwork creates the run's lab network, labelled with run's
// labels so that a sweep removes it after a killed run.
func CreateLabNetwork(ctx context.Context, cli *client.Client, run *cleanup.Run, swarm bool) (*LabNetwork, error) {
	used, err := usedSubnets(ctx, cli)
	if err != nil {
		return nil, err
	}
	n := &LabNetwork{Name: run.Name("lab"), Swarm: swarm, cli: cli}
	for range labSubnetTries {
		subnet := labSubnet(rand.IntN(256))
		if overlapsAny(subnet, used) {
			continue
		}
		n.Subnet, n.Gateway = subnet, subnet.Addr().Next()
		ipam := &network.IPAM{Config: []network.IPAMConfig{{Subnet: subnet, Gateway: n.Gateway}}}
		opts := client.NetworkCreateOptions{Driver: "bridge", Labels: run.Labels(), IPAM: ipam}
		if swarm {
			// Swarm-scoped bridges take their addresses from a
			// config-only network: their own IPAM is ignored.
			n.config = run.Name("lab", "config")
			if _, err := cli.NetworkCreate(ctx, n.config, client.NetworkCreateOptions{ConfigOnly: true, Labels: run.Labels(), IPAM: ipam}); err != nil {
				return nil, fmt.Errorf("create the lab network's address configuration: %w", err)
			}
			// Such a network takes no labels either: a sweep finds it by
			// its configuration network's (cleanup.Sweep).
			opts = client.NetworkCreateOptions{Driver: "bridge", Scope: "swarm", Attachable: true, ConfigFrom: n.config}
		}
		if _, err := cli.NetworkCreate(ctx, n.Name, opts); err != nil {
			if n.config != "" {
				_, _ = cli.NetworkRemove(context.WithoutCancel(ctx), n.config, client.NetworkRemoveOptions{})
			}
			if strings.Contains(strings.ToLower(err.Error()), "overlap") {
				used = append(used, subnet)
				continue
			}
			return nil, fmt.Errorf("create the lab network %s on %s: %w", n.Name, subnet, err)
		}
		return n, nil
	}
	return nil, fmt.Errorf("create the lab network: no free /24 in %s after %d draws", labSubnets, labSubnetTries)
}

// labSubnet is the i-th /24 of labSubnets.
func labSubnet(i int) netip.Prefix {
	b := labSubnets.Addr().As4()
	b[2] = byte(i)
	return netip.PrefixFrom(netip.AddrFrom4(b), 24)
}

// usedSubnets are the IPv4 subnets of the engine's networks and of this
// machine's interfaces: a lab network must overlap none of them.
func usedSubnets(ctx context.Context, cli *client.Client) ([]netip.Prefix, error) {
	var out []netip.Prefix
	nl, err := cli.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the engine's networks: %w", err)
	}
	for _, n := range nl.Items {
		for _, c := range n.IPAM.Config {
			if c.Subnet.IsValid() {
				out = append(out, c.Subnet)
			}
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list this machine's addresses: %w", err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if u.Overlaps(p) {
			return true
		}
	}
	return false
}

// Remove removes the network (and its address configuration) once no
// container is attached any more: a swarm task's endpoint goes a moment
// after its container.
func (n *LabNetwork) Remove(ctx context.Context) error {
	var errs []error
	for _, name := range []string{n.Name, n.config} {
		if name != "" {
			errs = append(errs, cleanup.RemoveNetworkWhenFree(ctx, n.cli, name))
		}
	}
	return errors.Join(errs...)
}

// ListenFree listens on addr even when its IP is not (yet) on this
// machine (IP_FREEBIND): the gateway address of a swarm-scoped lab
// network appears only when its first container attaches, and the
// coordinator must be listening there before its agents start.
func ListenFree(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_FREEBIND, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(ctx, "tcp4", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
