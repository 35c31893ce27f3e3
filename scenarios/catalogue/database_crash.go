package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// DatabaseCrash kills master A (provider 1's database) under writes: provider
// 1 turns unhealthy, its clients move, and master A rejoins and converges.
func DatabaseCrash() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "database-crash",
		Description:   "MariaDB master A is killed (SIGKILL) under load and restarted; it must rejoin replication, converge and lose no acknowledged write.",
		Requires:      []string{check.NameFailover, check.NameReplicationConvergence, check.NameNoLostWrites, check.NameReplicationHealth},
		NeedsDatabase: true,
		Disruptive:    true,
		Duration:      11 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.DBKill{Side: "a"}}},
	}
}

func init() { register(110, DatabaseCrash) }
