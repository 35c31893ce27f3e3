package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// ProviderDBCut cuts a provider off its database; the provider must report
// itself unhealthy so the balancer moves its clients away.
type ProviderDBCut struct {
	Provider string `fault:"provider"`
}

func (f ProviderDBCut) Name() string   { return "provider-db-cut" }
func (f ProviderDBCut) Target() string { return f.Provider + "-db" }
func (f ProviderDBCut) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

func (f ProviderDBCut) Inject(ctx context.Context, env Env) error {
	if err := env.CutLink(env.DatabaseLink(f.Provider)); err != nil {
		return fmt.Errorf("cut %s from its database: %w", f.Provider, err)
	}
	return nil
}

func (f ProviderDBCut) Recover(ctx context.Context, env Env) error {
	if err := env.RestoreLink(env.DatabaseLink(f.Provider)); err != nil {
		return fmt.Errorf("reconnect %s to its database: %w", f.Provider, err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f ProviderDBCut) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, f.Provider)
}

func init() {
	register(Entry{Name: "provider-db-cut", NeedsDatabase: true, Summary: "cuts one provider off its database", New: func() Fault { return &ProviderDBCut{Provider: "p1"} }})
}
