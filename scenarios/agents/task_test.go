package agents

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/internal/pki"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

func loadOf(users, rate int) load.Config {
	c := load.Config{Users: users, Rate: rate, Duration: time.Second, Domains: []history.Domain{{Name: "abc.test", HTTPS: "https://abc.test:1/"}}}
	for i := range users {
		c.SourceIPs = append(c.SourceIPs, netip.AddrFrom4([4]byte{127, 0, 10, byte(i + 1)}))
	}
	return c
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name          string
		users, rate   int
		agents        int
		wantUsers     []int
		wantRates     []int
		wantFirstUser []int
		wantErr       string
	}{
		{name: "even", users: 8, rate: 40, agents: 4, wantUsers: []int{2, 2, 2, 2}, wantRates: []int{10, 10, 10, 10}, wantFirstUser: []int{0, 2, 4, 6}},
		{name: "uneven users, rates add up", users: 10, rate: 41, agents: 3, wantUsers: []int{4, 3, 3}, wantRates: []int{16, 12, 13}, wantFirstUser: []int{0, 4, 7}},
		{name: "a small rate never becomes unpaced", users: 4, rate: 1, agents: 4, wantUsers: []int{1, 1, 1, 1}, wantRates: []int{1, 1, 1, 1}, wantFirstUser: []int{0, 1, 2, 3}},
		{name: "unpaced stays unpaced", users: 2, rate: 0, agents: 2, wantUsers: []int{1, 1}, wantRates: []int{0, 0}, wantFirstUser: []int{0, 1}},
		{name: "more agents than users", users: 2, rate: 10, agents: 3, wantErr: "every agent needs at least one user"},
		{name: "no agents", users: 2, rate: 10, agents: 0, wantErr: "want at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tasks, err := Split(loadOf(tt.users, tt.rate), []byte("pem"), tt.agents)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var users, rates, first []int
			seen := map[string]bool{}
			for _, tk := range tasks {
				users, rates, first = append(users, tk.Users), append(rates, tk.Rate), append(first, tk.FirstUser)
				assert.Equal(t, tt.users, tk.AllUsers)
				require.Len(t, tk.SourceIPs, tk.Users)
				for _, ip := range tk.SourceIPs {
					assert.False(t, seen[ip], "source IP %s in two shares", ip)
					seen[ip] = true
				}
			}
			assert.Equal(t, tt.wantUsers, users)
			assert.Equal(t, tt.wantRates, rates)
			assert.Equal(t, tt.wantFirstUser, first)
			assert.Len(t, seen, tt.users)
		})
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	// The agent runs 300 ms ahead; the round trip takes 10 ms.
	start := clockSample{sent: t0, at: t0.Add(305 * time.Millisecond), got: t0.Add(10 * time.Millisecond)}
	off, bound := start.offset()
	assert.Equal(t, 300*time.Millisecond, off)
	assert.Equal(t, 5*time.Millisecond, bound)
	// At the end it has drifted 2 ms further, over a 20 ms round trip.
	end := clockSample{sent: t0.Add(time.Minute), at: t0.Add(time.Minute + 312*time.Millisecond), got: t0.Add(time.Minute + 20*time.Millisecond)}
	c := clockOf(start, end)
	assert.Equal(t, 300*time.Millisecond, c.Offset)
	assert.Equal(t, 12*time.Millisecond, c.Bound, "the slower half round trip plus the drift")
	assert.Equal(t, Clock{Offset: 300 * time.Millisecond, Bound: 5 * time.Millisecond}, clockOf(start, clockSample{}), "an agent that died has only its start")
}

// TestOwnAddress: an agent told to send from its own address gives every
// user of its share the address it has towards the balancer, and its
// report lists what it sent from and how the balancer saw it (the last
// hop of X-Forwarded-For, at most maxSeenAs of them).
func TestOwnAddress(t *testing.T) {
	task := Task{Agent: "a1", Users: 3, AllUsers: 3, OwnAddress: true, CAPEM: testCAPEM(t),
		Domains: []history.Domain{{Name: "abc.test", PublicIP: "127.0.0.1", HTTPS: "https://abc.test:1/"}}}
	cfg, err := task.Load()
	require.NoError(t, err)
	want := netip.MustParseAddr("127.0.0.1")
	assert.Equal(t, []netip.Addr{want, want, want}, cfg.SourceIPs)

	task.Domains = nil
	_, err = task.Load()
	assert.ErrorContains(t, err, "no domain to find the own address towards")

	r := &agentRun{task: Task{OwnAddress: true}}
	for i, xff := range []string{"10.1.0.7", "192.0.2.1, 10.1.0.7", "", "10.1.0.8"} {
		q := history.Request{SourceIP: "10.1.0.7"}
		if xff != "" {
			q.Seen = &history.Seen{XForwardedFor: xff}
		}
		if i == 3 {
			q.SourceIP = ""
		}
		r.noteAddresses(q)
	}
	assert.Equal(t, []string{"10.1.0.7"}, r.rep.SourceIPs)
	assert.Equal(t, []string{"10.1.0.7", "10.1.0.8"}, r.rep.SeenAs, "last hops, each once")
	for i := range 40 {
		r.noteAddresses(history.Request{Seen: &history.Seen{XForwardedFor: netip.AddrFrom4([4]byte{10, 2, 0, byte(i)}).String()}})
	}
	assert.Len(t, r.rep.SeenAs, maxSeenAs)
}

func testCAPEM(t *testing.T) string {
	t.Helper()
	ca, err := pki.NewCA("agents test")
	require.NoError(t, err)
	return string(ca.PEM)
}
