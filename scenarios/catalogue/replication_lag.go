package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ReplicationLag delays replication to master B by 2 s: the lag must show
// in the heartbeat inside the window and vanish after it.
func ReplicationLag() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "replication-lag",
		Description:   "Master B applies master A's writes 2 s late for a while (a slow WAN); lag must be measured inside the window and be back under the bound after it.",
		Requires:      []string{check.NameReplicationLag, check.NameReplicationConvergence},
		NeedsDatabase: true,
		// The window ends by +6.3 s, its grace by +8.8 s: the load runs
		// on past it long enough for the lag to be sampled back to normal
		// (at 9 s, as before, there were 0 to 2 samples after it, and one
		// run in six could not judge: incomplete).
		Duration: 11 * time.Second,
		Bounds:   func(b *check.Bounds) { b.LagGrace = 2500 * time.Millisecond },
		Faults: []scenarios.Step{{At: 2 * time.Second, For: 4 * time.Second, Jitter: 300 * time.Millisecond,
			Fault: faults.ReplicationDelay{Side: "b", Delay: 2 * time.Second}}},
	}
}

func init() { register(160, ReplicationLag) }
