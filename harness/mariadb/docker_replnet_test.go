package mariadb

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReplSubnet: every block lies in the benchmarking range, blocks do
// not overlap, and the servers get the two addresses after the gateway.
func TestReplSubnet(t *testing.T) {
	cases := []struct {
		n    uint32
		want string
	}{
		{0, "198.18.0.0/29"},
		{1, "198.18.0.8/29"},
		{32, "198.18.1.0/29"},
		{replBlocks() - 1, "198.18.255.248/29"},
	}
	for _, c := range cases {
		got := replSubnet(c.n)
		assert.Equal(t, c.want, got.String(), "block %d", c.n)
		assert.True(t, replSubnets.Contains(got.Addr()), "block %d in %s", c.n, replSubnets)
	}
	assert.Equal(t, uint32(8192), replBlocks())
	assert.False(t, replSubnet(1).Overlaps(replSubnet(2)))
	ips := replAddrs(netip.MustParsePrefix("198.18.0.8/29"))
	assert.Equal(t, [2]netip.Addr{netip.MustParseAddr("198.18.0.10"), netip.MustParseAddr("198.18.0.11")}, ips)
}
