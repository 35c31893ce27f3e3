package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// LinkCut cuts the network between the balancer and one provider: new
// connections are refused and live ones close, while the provider runs on.
type LinkCut struct {
	Provider string `fault:"provider"`
}

func (f LinkCut) Name() string   { return "link-cut" }
func (f LinkCut) Target() string { return "lb-" + f.Provider }
func (f LinkCut) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

func (f LinkCut) Inject(ctx context.Context, env Env) error {
	if err := eachLink(env.BalancerLinks(f.Provider), env.CutLink); err != nil {
		return fmt.Errorf("cut balancer links to %s: %w", f.Provider, err)
	}
	return nil
}

func (f LinkCut) Recover(ctx context.Context, env Env) error {
	if err := eachLink(env.BalancerLinks(f.Provider), env.RestoreLink); err != nil {
		return fmt.Errorf("restore balancer links to %s: %w", f.Provider, err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f LinkCut) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, f.Provider)
}

func init() {
	register(Entry{Name: "link-cut", Summary: "cuts the wires from the balancer to one provider", New: func() Fault { return &LinkCut{Provider: "p1"} }})
}
