package faults

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// hookName is the registry name of operator hooks; a Hook value names
// itself after the operator's hook (Label).
const hookName = "hook"

// Hook is an operator's fault: a shell command that breaks something in a
// real deployment (stop a backend, freeze a VM) and one that mends it. It
// needs nothing from Env. Each command runs in its own process group with
// a timeout; the environment gets REGIFY_VERIFY_FAULT and
// REGIFY_VERIFY_PHASE. Use one *Hook per run: Detail reports what the
// inject command printed.
type Hook struct {
	// Label is the hook's name in the deployment file and in reports.
	Label      string        `fault:"name"`
	InjectCmd  string        `fault:"inject"`
	RecoverCmd string        `fault:"recover"`
	Provider   string        `fault:"provider"` // the provider it takes out, "" when unknown
	Timeout    time.Duration `fault:"timeout"`
	// Redact, when set, removes secrets from what the hook printed.
	Redact func(string) string

	output string
}

func (h *Hook) Name() string { return h.Label }

// Target is the provider the hook takes out, else "operator hook".
func (h *Hook) Target() string {
	if h.Provider == "" {
		return "operator hook"
	}
	return h.Provider
}

// Kind: an operator's hook is taken to take out a provider (the one it
// names, if any): failed requests and re-pins in its window are excused.
func (h *Hook) Kind() Kind { return Kind{Provider: true, Affects: h.Provider} }

func (h *Hook) Inject(ctx context.Context, _ Env) error {
	out, err := runHook(ctx, h.Label, "inject", h.InjectCmd, h.timeout())
	h.output = h.redact(clipLine(out))
	if err != nil {
		return errors.New(h.redact(err.Error()))
	}
	return nil
}

func (h *Hook) Recover(ctx context.Context, _ Env) error {
	if _, err := runHook(ctx, h.Label, "recover", h.RecoverCmd, h.timeout()); err != nil {
		return fmt.Errorf("%s (the system may still be broken: run the recover command by hand)", h.redact(err.Error()))
	}
	return nil
}

// Detail is what the inject command printed (clipped, redacted).
func (h *Hook) Detail() string { return h.output }

func (h *Hook) timeout() time.Duration {
	if h.Timeout <= 0 {
		return time.Minute
	}
	return h.Timeout
}

func (h *Hook) redact(s string) string {
	if h.Redact == nil {
		return s
	}
	return h.Redact(s)
}

func init() {
	register(Entry{Name: hookName, Summary: "an operator's shell commands: inject breaks, recover mends (deployment files' faults: section)",
		New: func() Fault { return &Hook{Label: hookName, Timeout: time.Minute} }})
}

// Bit: with a provider named, its clients were disrupted or moved; without
// one nothing can be checked, and the effect says so.
func (h *Hook) Bit(hist *history.History, rec *history.Fault) (string, bool) {
	if h.Provider == "" {
		return "not checked: the hook names no provider (set provider: in the deployment file to check that it took effect)", true
	}
	return providerBit(hist, rec, h.Provider)
}
