package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// LinkBlackhole drops every request the balancer sends to provider 1 while
// the connections stay open: no reset, no refusal, only silence. Health
// checks must time out and move provider 1's clients to provider 2.
func LinkBlackhole() scenarios.Scenario {
	return scenarios.Scenario{
		Name:        "link-blackhole",
		Description: "The balancer's requests to provider 1 vanish on the wire (one way; connections stay open, nothing is reset); health checks must time out and move its clients.",
		Requires:    []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Duration:    10 * time.Second,
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.LinkBlackhole{Provider: "p1", Direction: "request"}}},
	}
}

func init() { register(75, LinkBlackhole) }
