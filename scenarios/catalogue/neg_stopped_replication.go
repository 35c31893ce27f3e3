package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// NegStoppedReplication: master B never applies master A's writes.
func NegStoppedReplication() scenarios.Scenario {
	s := negative("neg-stopped-replication", "Broken on purpose: replication into master B is stopped for the whole run.",
		nil, check.NameReplicationHealth, check.NameNoLostWrites)
	s.NeedsDatabase = true
	s.ConvergeBound = 3 * time.Second
	s.Faults = []scenarios.Step{{At: 0, For: time.Hour, // recovered only when the run ends
		Fault: faults.Permanent{Fault: faults.ReplicationStop{Side: "b"}}}}
	return s
}

func init() { register(300, NegStoppedReplication) }
