package catalogue

import (
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderKill is provider-crash on providers that are processes of their
// own, as appliances are: provider 1 gets a real SIGKILL and a new process
// starts in its place; the two share state only through the MariaDB pair.
func ProviderKill() scenarios.Scenario {
	return providerProcessOutage("provider-kill", "Provider 1, a process of its own on its own master, is killed with SIGKILL under load and a new process starts; traffic fails over to provider 2, sessions survive through the pair.", faults.ProviderCrash{Provider: "p1"})
}

func init() { register(135, ProviderKill) }
