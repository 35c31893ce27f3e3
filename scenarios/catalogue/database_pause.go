package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// DatabasePause freezes master A: connections stay open and nothing
// answers, the database failure that is hardest to notice. Provider 1's
// health check must time out on it and its clients move to provider 2.
func DatabasePause() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "database-pause",
		Description:   "MariaDB master A freezes (SIGSTOP) under load and thaws; provider 1 must be taken out while its database hangs, and the pair must converge with no lost write.",
		Requires:      []string{check.NameFailover, check.NameReplicationConvergence, check.NameNoLostWrites, check.NameReplicationHealth},
		NeedsDatabase: true,
		Disruptive:    true,
		Duration:      11 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.DBPause{Side: "a"}}},
	}
}

func init() { register(120, DatabasePause) }
