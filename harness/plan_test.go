package harness

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanOnLane(t *testing.T) {
	base, err := DefaultPlan(3, false)
	require.NoError(t, err)
	tests := []struct {
		lane    int
		client  string
		public  string
		p2def   string
		clear   string
		wantErr bool
	}{
		{lane: 0, client: "127.0.10.3", public: "127.0.1.1", p2def: "127.0.2.4", clear: "127.0.3.2"},
		{lane: 1, client: "127.1.10.3", public: "127.1.1.1", p2def: "127.1.2.4", clear: "127.1.3.2"},
		{lane: 254, client: "127.254.10.3", public: "127.254.1.1", p2def: "127.254.2.4", clear: "127.254.3.2"},
		{lane: 255, wantErr: true},
		{lane: -1, wantErr: true},
	}
	for _, tt := range tests {
		got, err := base.OnLane(tt.lane)
		if tt.wantErr {
			require.Error(t, err, "lane %d", tt.lane)
			assert.Contains(t, err.Error(), "want 0 to 254")
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.client, got.Clients[2].String())
		assert.Equal(t, tt.public, got.Domains[0].PublicIP.String())
		assert.Equal(t, tt.p2def, got.Providers[1].Internal["def.test"].String())
		assert.Equal(t, tt.clear, got.Clearing[1].String())
	}
	moved, err := base.OnLane(9)
	require.NoError(t, err)
	assert.Equal(t, "127.9.4.1", moved.Wires.String(), "the links listen on the lane")
	assert.Equal(t, "127.9.5.1", moved.Database.String(), "a process pair listens on the lane")
	// The base plan is not changed by moving a copy.
	assert.Equal(t, "127.0.2.4", base.Providers[1].Internal["def.test"].String())
	// Addresses outside 127.0/16 stay where they are.
	assert.Equal(t, "10.0.0.1", LaneAddr(netip.MustParseAddr("10.0.0.1"), 3).String())
	assert.Equal(t, "127.5.0.1", LaneAddr(netip.MustParseAddr("127.5.0.1"), 3).String())
}

// TestLabSubnet: lab networks draw /24s from 198.19.0.0/16, apart from
// the replication networks' 198.18.0.0/16, and skip a subnet in use.
func TestLabSubnet(t *testing.T) {
	assert.Equal(t, "198.19.0.0/24", labSubnet(0).String())
	assert.Equal(t, "198.19.255.0/24", labSubnet(255).String())
	assert.False(t, labSubnet(7).Overlaps(netip.MustParsePrefix("198.18.0.0/16")), "the replication networks' half")
	used := []netip.Prefix{netip.MustParsePrefix("198.19.0.0/20"), netip.MustParsePrefix("10.0.0.0/8")}
	assert.True(t, overlapsAny(labSubnet(3), used))
	assert.False(t, overlapsAny(labSubnet(16), used))
}
