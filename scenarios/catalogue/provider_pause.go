package catalogue

import (
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderPause freezes provider 1's process with SIGSTOP: connections
// queue in the kernel's backlog and nobody answers, the failure only a
// health check with a timeout sees; SIGCONT thaws it.
func ProviderPause() scenarios.Scenario {
	return providerProcessOutage("provider-pause", "Provider 1's process is frozen (SIGSTOP) under load and thawed (SIGCONT); the balancer's timed health checks take it out and traffic fails over to provider 2.", faults.ProviderPause{Provider: "p1"})
}

func init() { register(136, ProviderPause) }
