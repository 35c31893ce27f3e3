package faults

import (
	"context"
	"fmt"
)

// ProviderHang makes a provider accept connections and never answer, the
// failure a TCP health check cannot see.
type ProviderHang struct {
	Lab      Lab
	Provider string
}

func (f ProviderHang) Name() string   { return "provider-hang" }
func (f ProviderHang) Target() string { return f.Provider }
func (f ProviderHang) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

func (f ProviderHang) Inject(ctx context.Context) error {
	if err := f.Lab.HangProvider(ctx, f.Provider, true); err != nil {
		return fmt.Errorf("hang provider %s: %w", f.Provider, err)
	}
	return nil
}

func (f ProviderHang) Recover(ctx context.Context) error {
	if err := f.Lab.HangProvider(ctx, f.Provider, false); err != nil {
		return fmt.Errorf("unhang provider %s: %w", f.Provider, err)
	}
	return nil
}
