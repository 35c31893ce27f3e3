package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/harness/links"
)

// ProviderSlow adds latency to every answer of a provider, on the wires from
// the balancer, so the provider itself stays healthy but slow.
type ProviderSlow struct {
	Provider string        `fault:"provider"`
	Latency  time.Duration `fault:"latency"`
}

const slowToxic = "provider-slow"

func (f ProviderSlow) Name() string   { return "provider-slow" }
func (f ProviderSlow) Target() string { return f.Provider }

// Kind: a slow provider must not cost requests, so nothing is excused.
func (f ProviderSlow) Kind() Kind { return Kind{} }

func (f ProviderSlow) Inject(ctx context.Context, env Env) error {
	t := links.Toxic{Name: slowToxic, Type: "latency", Attributes: map[string]any{"latency": f.Latency.Milliseconds()}}
	err := eachLink(env.BalancerLinks(f.Provider), func(l string) error { return env.AddToxic(l, t) })
	if err != nil {
		return fmt.Errorf("slow provider %s by %s: %w", f.Provider, f.Latency, err)
	}
	return nil
}

func (f ProviderSlow) Recover(ctx context.Context, env Env) error {
	err := eachLink(env.BalancerLinks(f.Provider), func(l string) error { return env.RemoveToxic(ctx, l, slowToxic) })
	if err != nil {
		return fmt.Errorf("speed up provider %s: %w", f.Provider, err)
	}
	return nil
}

func init() {
	register(Entry{Name: "provider-slow", Summary: "delays every answer of one provider by a latency", New: func() Fault { return &ProviderSlow{Provider: "p1", Latency: 2 * time.Second} }})
}
