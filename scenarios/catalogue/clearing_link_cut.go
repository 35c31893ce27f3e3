package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ClearingLinkCut cuts the first connection to the clearing service: the
// redundant one must take over, and no message may fail or be cleared twice.
func ClearingLinkCut() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "clearing-link-cut",
		Description: "Clearing connection 1 is cut; providers fail over to the redundant clearing connection 2 without losing or doubling a transaction.",
		Requires:    []string{check.NameClearing},
		Duration:    7 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Fault: faults.ClearingCut{Clearing: 0}}},
	}
}

func init() { register(80, ClearingLinkCut) }
