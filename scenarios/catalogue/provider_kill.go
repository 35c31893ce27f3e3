package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ProviderKill is provider-crash on providers that are processes of their
// own, as appliances are: provider 1 gets a real SIGKILL and a new process
// starts in its place; the two share state only through the MariaDB pair.
func ProviderKill() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "provider-kill",
		Description:   "Provider 1, a process of its own on its own master, is killed with SIGKILL under load and a new process starts; traffic fails over to provider 2, sessions survive through the pair.",
		Requires:      []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Duration:      10 * time.Second,
		NeedsDatabase: true,
		Lab:           func(o *harness.Options) { o.Providers = harness.ProvidersProcess },
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: faults.ProviderCrash{Provider: "p1"}}},
	}
}

func init() { register(135, ProviderKill) }
