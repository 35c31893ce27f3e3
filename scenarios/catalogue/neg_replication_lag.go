package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// NegReplicationLag: master B is always 3 s behind.
func NegReplicationLag() scenarios.Scenario {
	s := negative("neg-replication-lag", "Broken on purpose: master B applies master A's writes 3 s late for the whole run.",
		nil, check.NameReplicationLag)
	s.NeedsDatabase = true
	s.Duration = 6 * time.Second
	s.ConvergeBound = 5 * time.Second
	s.Faults = []scenarios.Step{{At: 0, For: time.Hour, Fault: faults.Permanent{Fault: faults.ReplicationDelay{Side: "b", Delay: 3 * time.Second}}}}
	return s
}

func init() { register(310, NegReplicationLag) }
