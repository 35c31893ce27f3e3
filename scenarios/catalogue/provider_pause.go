package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderPause freezes provider 1's process with SIGSTOP: connections
// queue in the kernel's backlog and nobody answers, the failure only a
// health check with a timeout sees; SIGCONT thaws it.
func ProviderPause() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "provider-pause",
		Description:   "Provider 1's process is frozen (SIGSTOP) under load and thawed (SIGCONT); the balancer's timed health checks take it out and traffic fails over to provider 2.",
		Requires:      []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Duration:      10 * time.Second,
		NeedsDatabase: true,
		Lab:           func(o *harness.Options) { o.Providers = harness.ProvidersProcess },
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.ProviderPause{Provider: "p1"}}},
	}
}

func init() { register(136, ProviderPause) }
