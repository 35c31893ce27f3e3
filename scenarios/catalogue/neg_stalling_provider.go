package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// NegStallingProvider: provider 1 answers every request 1.5 s late. Every
// answer is a 200, so nothing has failed; its users still could not work.
func NegStallingProvider() scenarios.Scenario {
	s := negative("neg-stalling-provider", "Broken on purpose: provider 1 answers every request 1.5 s late; every answer is a 200, and its users still wait.",
		nil, check.NameResponsiveness)
	s.Duration = 5 * time.Second
	s.Faults = []scenarios.Step{{At: time.Second, For: 3 * time.Second,
		Fault: faults.ProviderSlow{Provider: "p1", Latency: 1500 * time.Millisecond}}}
	return s
}

func init() { register(335, NegStallingProvider) }
