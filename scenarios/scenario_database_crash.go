package scenarios

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// DatabaseCrash kills master A (provider 1's database) under writes: provider
// 1 turns unhealthy, its clients move, and master A rejoins and converges.
func DatabaseCrash() Scenario {
	return Scenario{
		Name:          "database-crash",
		Description:   "MariaDB master A is killed (SIGKILL) under load and restarted; it must rejoin replication, converge and lose no acknowledged write.",
		NeedsDatabase: true,
		Duration:      9 * time.Second,
		Faults: []Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault { return faults.DBKill{Lab: l, Side: "a"} }}},
	}
}

// ProviderDatabaseCut cuts provider 1 off its database.
func ProviderDatabaseCut() Scenario {
	return Scenario{
		Name:          "provider-database-cut",
		Description:   "Provider 1 loses its database connection; its health check must fail and its clients move to provider 2.",
		NeedsDatabase: true,
		Duration:      8 * time.Second,
		Faults: []Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault { return faults.ProviderDBCut{Lab: l, Provider: "p1"} }}},
	}
}
