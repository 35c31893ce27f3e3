package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"

	"github.com/regify-verify/regify-verify/harness/links"
)

// LinkReset makes every connection between the balancer and one provider end
// in a TCP reset, as a flapping firewall does.
type LinkReset struct {
	Provider string `fault:"provider"`
}

const resetToxic = "link-reset"

func (f LinkReset) Name() string   { return "link-reset" }
func (f LinkReset) Target() string { return "lb-" + f.Provider }
func (f LinkReset) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

func (f LinkReset) Inject(ctx context.Context, env Env) error {
	t := links.Toxic{Name: resetToxic, Type: "reset_peer", Stream: "upstream", Attributes: map[string]any{"timeout": 0}}
	if err := eachLink(env.BalancerLinks(f.Provider), func(l string) error { return env.AddToxic(l, t) }); err != nil {
		return fmt.Errorf("reset balancer links to %s: %w", f.Provider, err)
	}
	return nil
}

func (f LinkReset) Recover(ctx context.Context, env Env) error {
	err := eachLink(env.BalancerLinks(f.Provider), func(l string) error { return env.RemoveToxic(ctx, l, resetToxic) })
	if err != nil {
		return fmt.Errorf("end resets on balancer links to %s: %w", f.Provider, err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f LinkReset) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, f.Provider)
}

func init() {
	register(Entry{Name: "link-reset", Summary: "ends every connection from the balancer to one provider with a TCP reset", New: func() Fault { return &LinkReset{Provider: "p1"} }})
}
