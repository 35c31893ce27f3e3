package scenarios

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// DatabasePause freezes master A: connections stay open and nothing
// answers, the database failure that is hardest to notice. Provider 1's
// health check must time out on it and its clients move to provider 2.
func DatabasePause() Scenario {
	return Scenario{
		Name:          "database-pause",
		Description:   "MariaDB master A freezes (SIGSTOP) under load and thaws; provider 1 must be taken out while its database hangs, and the pair must converge with no lost write.",
		NeedsDatabase: true,
		Duration:      9 * time.Second,
		Faults: []Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault { return faults.DBPause{Lab: l, Side: "a"} }}},
	}
}

// DatabaseRestart shuts master A down cleanly and starts it again: the
// planned maintenance every operator does. Provider 1 is taken out while its
// database is gone, and the restarted master must resume replication from
// where it stopped, both ways, with no lost write.
func DatabaseRestart() Scenario {
	return Scenario{
		Name:          "database-restart",
		Description:   "MariaDB master A is shut down cleanly under load and started again; replication must resume both ways from where it stopped, with no lost write.",
		NeedsDatabase: true,
		Duration:      9 * time.Second,
		Faults: []Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault { return faults.DBRestart{Lab: l, Side: "a"} }}},
	}
}
