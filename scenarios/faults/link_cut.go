package faults

import (
	"context"
	"fmt"
)

// LinkCut cuts the network between the balancer and one provider: new
// connections are refused and live ones close, while the provider runs on.
type LinkCut struct {
	Lab      Lab
	Provider string
}

func (f LinkCut) Name() string   { return "link-cut" }
func (f LinkCut) Target() string { return "lb-" + f.Provider }
func (f LinkCut) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

func (f LinkCut) Inject(ctx context.Context) error {
	if err := eachLink(f.Lab.BalancerLinks(f.Provider), f.Lab.CutLink); err != nil {
		return fmt.Errorf("cut balancer links to %s: %w", f.Provider, err)
	}
	return nil
}

func (f LinkCut) Recover(ctx context.Context) error {
	if err := eachLink(f.Lab.BalancerLinks(f.Provider), f.Lab.RestoreLink); err != nil {
		return fmt.Errorf("restore balancer links to %s: %w", f.Provider, err)
	}
	return nil
}
