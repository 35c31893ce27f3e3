package scenarios

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ReplicationCutAndHeal cuts the link between the masters while both take
// writes, then heals it: both must converge with every acknowledged write.
func ReplicationCutAndHeal() Scenario {
	return Scenario{
		Name:          "replication-cut-and-heal",
		Description:   "The replication link is cut in both directions while both masters take writes, then healed; the masters must converge with no lost write.",
		NeedsDatabase: true,
		Duration:      8 * time.Second,
		Faults: []Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault { return faults.ReplicationCut{Lab: l} }}},
	}
}

// ReplicationLag delays replication to master B by 2 s: the lag must show
// in the heartbeat inside the window and vanish after it.
func ReplicationLag() Scenario {
	return Scenario{
		Name:          "replication-lag",
		Description:   "Master B applies master A's writes 2 s late for a while (a slow WAN); lag must be measured inside the window and be back under the bound after it.",
		NeedsDatabase: true,
		Duration:      9 * time.Second,
		Bounds:        func(b *check.Bounds) { b.LagGrace = 2500 * time.Millisecond },
		Faults: []Step{{At: 2 * time.Second, For: 4 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault {
				return faults.ReplicationDelay{Lab: l, Side: "b", Delay: 2 * time.Second}
			}}},
	}
}
