package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// DatabaseRestart shuts master A down cleanly and starts it again: the
// planned maintenance every operator does. Provider 1 is taken out while its
// database is gone, and the restarted master must resume replication from
// where it stopped, both ways, with no lost write.
func DatabaseRestart() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "database-restart",
		Description:   "MariaDB master A is shut down cleanly under load and started again; replication must resume both ways from where it stopped, with no lost write.",
		Requires:      []string{check.NameFailover, check.NameReplicationConvergence, check.NameNoLostWrites, check.NameReplicationHealth},
		NeedsDatabase: true,
		Disruptive:    true,
		Duration:      11 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.DBRestart{Side: "a"}}},
	}
}

func init() { register(130, DatabaseRestart) }
