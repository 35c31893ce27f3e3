package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// NegSilentDivergence: a row is changed on master B with binary logging
// off while both replica threads keep running. Replication reports nothing
// wrong; only comparing the rows finds it. The fault itself checks that
// replication stayed healthy (else the divergence was not silent).
func NegSilentDivergence() scenarios.Scenario {
	s := negative("neg-silent-divergence", "Broken on purpose: one message row is changed on master B with binary logging off while replication runs on; the replica threads stay healthy and the masters differ.",
		nil, check.NameReplicationConvergence)
	s.NeedsDatabase = true
	s.Duration = 5 * time.Second
	s.ConvergeBound = 3 * time.Second // it never converges by design
	s.Faults = []scenarios.Step{{At: 3 * time.Second, For: time.Second, Fault: faults.DBSilentWrite{Side: "b"}}}
	return s
}

func init() { register(325, NegSilentDivergence) }
