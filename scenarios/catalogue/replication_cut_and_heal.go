package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ReplicationCutAndHeal cuts the link between the masters while both take
// writes, then heals it: both must converge with every acknowledged write.
func ReplicationCutAndHeal() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "replication-cut-and-heal",
		Description:   "The replication link is cut in both directions while both masters take writes, then healed; the masters must converge with no lost write.",
		Requires:      []string{check.NameReplicationConvergence, check.NameNoLostWrites, check.NameReplicationHealth},
		NeedsDatabase: true,
		Duration:      8 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Fault: faults.ReplicationCut{}}},
	}
}

func init() { register(150, ReplicationCutAndHeal) }
