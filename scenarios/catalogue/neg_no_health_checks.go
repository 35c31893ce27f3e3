package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// NegNoHealthChecks: a crashed provider keeps its clients.
func NegNoHealthChecks() scenarios.Scenario {
	s := negative("neg-no-health-checks", "Broken on purpose: no health checks; provider 1 crashes and its clients keep being sent to it.",
		func(o *harness.Options) { o.Balancer.NoHealthChecks = true }, check.NameFailover)
	s.Duration = 8 * time.Second
	s.Faults = []scenarios.Step{{At: 1500 * time.Millisecond, For: scenarios.ProviderFaultFor + 2*time.Second, // well past LabMaxRecovery
		Fault: faults.ProviderCrash{Provider: "p1"}}}
	return s
}

func init() { register(260, NegNoHealthChecks) }
