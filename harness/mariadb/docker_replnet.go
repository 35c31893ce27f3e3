package mariadb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// The replication network has a subnet of its own and each server a fixed
// address on it, which the other's replica connects to: no name lookup.
// Docker's embedded DNS lost the names of a running pair's network for
// good when the engine joined or left a swarm (measured: "Unknown server
// host 'mariadb-b'" for 30 s after a swarm init and leave beside the
// pair), and a fixed address survives a restart and the reconnect after a
// replication cut too.

// replSubnets is where the subnets come from: the benchmarking range
// (RFC 2544), which no real network routes, its lower half (lab networks
// take the upper), in blocks of 8 addresses
// (network, gateway, the two servers).
var replSubnets = netip.MustParsePrefix("198.18.0.0/16")

const (
	replSubnetBits = 29
	// replTries bounds the draws of a subnet no other network of the
	// engine overlaps.
	replTries = 32
)

// replSubnet draws the n-th block of replSubnets.
func replSubnet(n uint32) netip.Prefix {
	base := replSubnets.Addr().As4()
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	v += n << (32 - replSubnetBits)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), replSubnetBits)
}

// replBlocks is how many blocks replSubnets holds.
func replBlocks() uint32 { return 1 << (replSubnetBits - replSubnets.Bits()) }

// replAddrs are the servers' addresses in subnet: the two after the
// gateway.
func replAddrs(subnet netip.Prefix) [2]netip.Addr {
	gw := subnet.Addr().Next()
	return [2]netip.Addr{gw.Next(), gw.Next().Next()}
}

// createReplNet creates the internal replication network on a subnet no
// other network of the engine uses, and returns the servers' addresses.
func (d *Docker) createReplNet(ctx context.Context) ([2]netip.Addr, error) {
	var last error
	for range replTries {
		subnet := replSubnet(rand.Uint32N(replBlocks()))
		_, err := d.cli.NetworkCreate(ctx, d.replNet, client.NetworkCreateOptions{
			Driver: "bridge", Internal: true, Labels: d.run.Labels(),
			IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: subnet}}},
		})
		if err == nil {
			return replAddrs(subnet), nil
		}
		if !strings.Contains(strings.ToLower(err.Error()), "overlap") {
			return [2]netip.Addr{}, fmt.Errorf("create replication network: %w", err)
		}
		last = err
	}
	return [2]netip.Addr{}, fmt.Errorf("create replication network: no free subnet in %s after %d draws: %w", replSubnets, replTries, last)
}

// connectRepl attaches the container of side s to the replication
// network at its address.
func (d *Docker) connectRepl(ctx context.Context, id string, s Side) error {
	_, err := d.cli.NetworkConnect(ctx, d.replNet, client.NetworkConnectOptions{
		Container: id,
		EndpointConfig: &network.EndpointSettings{
			Aliases:    []string{alias(s)},
			IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: d.replIPs[s]},
		},
	})
	if err != nil {
		return fmt.Errorf("attach side %s to the replication network at %s: %w", s, d.replIPs[s], err)
	}
	return nil
}
