package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// NegSingleClearing: no redundant clearing connection, and sends are
// acknowledged although their clearing failed.
func NegSingleClearing() scenarios.Scenario {
	s := negative("neg-single-clearing", "Broken on purpose: providers use only clearing connection 1 and acknowledge messages whose clearing failed; connection 1 is cut.",
		func(o *harness.Options) { o.Provider.SingleClearing = true }, check.NameClearing)
	s.Duration = 5 * time.Second
	s.Faults = []scenarios.Step{{At: 1500 * time.Millisecond, For: 2 * time.Second,
		Fault: faults.ClearingCut{Clearing: 0}}}
	return s
}

func init() { register(290, NegSingleClearing) }
