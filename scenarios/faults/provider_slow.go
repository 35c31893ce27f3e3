package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/harness/links"
	"github.com/regify-verify/regify-verify/history"
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

// Bit: requests answered by the provider inside the window took at least
// most of the added latency.
func (f ProviderSlow) Bit(h *history.History, rec *history.Fault) (string, bool) {
	from, to := window(h, rec)
	slowed, answered := 0, 0
	for i := range h.Requests {
		r := &h.Requests[i]
		if !userRequest(r) || r.Provider != f.Provider || r.Start.Before(from) || r.Start.After(to) {
			continue
		}
		answered++
		if r.Latency >= f.Latency*8/10 {
			slowed++
		}
	}
	if slowed == 0 {
		return fmt.Sprintf("none of the %d requests %s answered inside the window took %s or more", answered, f.Provider, f.Latency*8/10), false
	}
	return fmt.Sprintf("took effect: %d of %d requests %s answered inside the window took %s or more", slowed, answered, f.Provider, f.Latency*8/10), true
}
