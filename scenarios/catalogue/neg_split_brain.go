package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegSplitBrain: the split-brain probe on masters that run with
// slave_run_triggers_for_rbr = NO, MariaDB's default, instead of ENFORCE.
// The provider's triggers still run for its own writes but not for
// replicated rows, so when the link heals each master takes the other's
// row image of the forked session: the masters swap the two branches and
// never agree on one token again.
func NegSplitBrain() scenarios.Scenario {
	s := SplitBrain()
	s.Name = "neg-split-brain"
	s.Description = "Broken on purpose: both masters run with slave_run_triggers_for_rbr = NO (MariaDB's default), so the provider's convergence triggers skip replicated rows. " +
		"The split-brain probe forks one session token across a replication cut; after the heal the masters hold the two branches swapped and never reconcile."
	s.Lab = func(o *harness.Options) { o.DB.NoReplicaTriggers = true }
	s.Negative, s.ExpectFail, s.Requires = true, []string{check.NameSplitBrain}, nil
	s.ConvergeBound = 3 * time.Second // it never converges by design
	return s
}

func init() { register(340, NegSplitBrain) }
