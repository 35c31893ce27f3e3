package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// ProviderCrash kills a provider: its listeners and live connections are gone
// at once, as when an appliance loses power. Recover starts it again.
type ProviderCrash struct {
	Provider string `fault:"provider"`
}

func (f ProviderCrash) Name() string   { return "provider-crash" }
func (f ProviderCrash) Target() string { return f.Provider }
func (f ProviderCrash) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

func (f ProviderCrash) Inject(ctx context.Context, env Env) error {
	if err := env.CrashProvider(ctx, f.Provider); err != nil {
		return fmt.Errorf("crash provider %s: %w", f.Provider, err)
	}
	return nil
}

func (f ProviderCrash) Recover(ctx context.Context, env Env) error {
	if err := env.RestartProvider(ctx, f.Provider); err != nil {
		return fmt.Errorf("restart provider %s: %w", f.Provider, err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f ProviderCrash) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, f.Provider)
}

func init() {
	register(Entry{Name: "provider-crash", Summary: "stops one provider (its listeners close); recover restarts it", New: func() Fault { return &ProviderCrash{Provider: "p1"} }})
}
