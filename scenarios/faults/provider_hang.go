package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// ProviderHang makes a provider accept connections and never answer, the
// failure a TCP health check cannot see.
type ProviderHang struct {
	Provider string `fault:"provider"`
}

func (f ProviderHang) Name() string   { return "provider-hang" }
func (f ProviderHang) Target() string { return f.Provider }
func (f ProviderHang) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

func (f ProviderHang) Inject(ctx context.Context, env Env) error {
	if err := env.HangProvider(ctx, f.Provider, true); err != nil {
		return fmt.Errorf("hang provider %s: %w", f.Provider, err)
	}
	return nil
}

func (f ProviderHang) Recover(ctx context.Context, env Env) error {
	if err := env.HangProvider(ctx, f.Provider, false); err != nil {
		return fmt.Errorf("unhang provider %s: %w", f.Provider, err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f ProviderHang) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, f.Provider)
}

func init() {
	register(Entry{Name: "provider-hang", Summary: "makes one provider accept connections and never answer", New: func() Fault { return &ProviderHang{Provider: "p1"} }})
}
