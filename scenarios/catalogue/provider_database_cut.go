package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderDatabaseCut cuts provider 1 off its database.
func ProviderDatabaseCut() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "provider-database-cut",
		Description:   "Provider 1 loses its database connection; its health check must fail and its clients move to provider 2.",
		Requires:      []string{check.NameFailover, check.NameReplicationConvergence, check.NameNoLostWrites, check.NameReplicationHealth},
		NeedsDatabase: true,
		Duration:      10 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.ProviderDBCut{Provider: "p1"}}},
	}
}

func init() { register(140, ProviderDatabaseCut) }
