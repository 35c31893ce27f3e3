package deploy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/scenarios/load"
)

// dialer connects a domain's name to its public IP (domains[].address),
// from the given local address; other names resolve through DNS.
func dialer(d *Deployment, timeout time.Duration) load.DialFunc {
	hosts := make(map[string]netip.Addr, len(d.Domains))
	for _, dom := range d.Domains {
		if dom.Address.IsValid() {
			hosts[dom.Name] = dom.Address
		}
	}
	return func(ctx context.Context, local netip.Addr, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil {
			if ip, ok := hosts[strings.ToLower(strings.TrimSuffix(host, "."))]; ok {
				addr = net.JoinHostPort(ip.String(), port)
			}
		}
		nd := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		if local.IsValid() {
			nd.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
		}
		conn, err := nd.DialContext(ctx, network, addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s from %s: %w", addr, local, err)
		}
		return conn, nil
	}
}
