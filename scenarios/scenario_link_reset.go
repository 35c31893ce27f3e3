package scenarios

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// LinkReset makes every connection to provider 1 end in a TCP reset.
func LinkReset() Scenario {
	return Scenario{
		Name:        "link-reset",
		Description: "Every connection between the balancer and provider 1 is reset; passive checks must mark it down.",
		Duration:    8 * time.Second,
		Faults: []Step{{At: 2 * time.Second, For: 3 * time.Second, Jitter: 300 * time.Millisecond,
			Make: func(l faults.Lab) faults.Fault { return faults.LinkReset{Lab: l, Provider: "p1"} }}},
	}
}
