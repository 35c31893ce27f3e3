package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// ProviderPause freezes a provider process with SIGSTOP: the kernel still
// accepts connections into its backlog and nobody answers them, until
// SIGCONT thaws it and it answers everything queued at once. It needs a
// lab whose providers are processes (NeedsProcesses: --fault brings one
// up).
type ProviderPause struct {
	Provider string `fault:"provider"`
}

func (f ProviderPause) Name() string   { return "provider-pause" }
func (f ProviderPause) Target() string { return f.Provider }
func (f ProviderPause) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

func (f ProviderPause) Inject(ctx context.Context, env Env) error {
	if err := env.PauseProvider(ctx, f.Provider, true); err != nil {
		return fmt.Errorf("pause provider %s: %w", f.Provider, err)
	}
	return nil
}

func (f ProviderPause) Recover(ctx context.Context, env Env) error {
	if err := env.PauseProvider(ctx, f.Provider, false); err != nil {
		return fmt.Errorf("resume provider %s: %w", f.Provider, err)
	}
	return nil
}

// Bit: the clients on the provider it froze were disrupted or moved.
func (f ProviderPause) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, f.Provider)
}

func init() {
	register(Entry{Name: "provider-pause", NeedsDatabase: true, NeedsProcesses: true, Summary: "freezes one provider process (SIGSTOP; the lab runs its providers as processes for it); recover thaws it (SIGCONT)", New: func() Fault { return &ProviderPause{Provider: "p1"} }})
}
