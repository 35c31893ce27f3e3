package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// NegSessionLossRoundRobin: without persistence and with replication a
// second behind, a user's newest token is often not yet on the provider
// that gets the next request: sessions are lost, as the seed warns.
func NegSessionLossRoundRobin() scenarios.Scenario {
	s := negative("neg-session-loss-round-robin", "Broken on purpose: round robin with master-master replication 1 s behind; users' newest tokens have not replicated when their next request lands on the other provider.",
		func(o *harness.Options) { o.Balancer.RoundRobin = true }, check.NameSessionContinuity, check.NameStickiness)
	s.NeedsDatabase = true
	// Sessions rotated on both masters a second apart leave them
	// disagreeing about the newest token (measured: the checksums differ
	// with both replica threads running), so waiting the full default
	// bound for convergence judges nothing more.
	s.ConvergeBound = 3 * time.Second
	s.Faults = []scenarios.Step{
		{At: 0, For: time.Hour, Fault: faults.Permanent{Fault: faults.ReplicationDelay{Side: "a", Delay: time.Second}}},
		{At: 0, For: time.Hour, Fault: faults.Permanent{Fault: faults.ReplicationDelay{Side: "b", Delay: time.Second}}},
	}
	return s
}

func init() { register(330, NegSessionLossRoundRobin) }
