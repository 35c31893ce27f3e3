package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"

	"github.com/regify-verify/regify-verify/harness/links"
)

// LinkBlackhole cuts the wires between the balancer and one provider in one
// direction only: bytes sent that way vanish while connections stay open,
// the half-broken link a stateful firewall or an asymmetric route leaves.
// Nothing is reset, so only timeouts notice it.
type LinkBlackhole struct {
	Provider string `fault:"provider"`
	// Direction is "request" (balancer → provider: the provider never
	// sees the request) or "response" (provider → balancer: it answers
	// into the void).
	Direction string `fault:"direction"`
}

const blackholeToxic = "link-blackhole"

func (f LinkBlackhole) Name() string   { return "link-blackhole" }
func (f LinkBlackhole) Target() string { return "lb-" + f.Provider + " (" + f.Direction + ")" }
func (f LinkBlackhole) Kind() Kind     { return Kind{Provider: true, Affects: f.Provider} }

// stream maps the direction to toxiproxy's: upstream is client → server.
func (f LinkBlackhole) stream() (string, error) {
	switch f.Direction {
	case "request":
		return "upstream", nil
	case "response":
		return "downstream", nil
	}
	return "", fmt.Errorf("link-blackhole direction %q: want request or response", f.Direction)
}

func (f LinkBlackhole) Inject(ctx context.Context, env Env) error {
	stream, err := f.stream()
	if err != nil {
		return err
	}
	// A timeout toxic of 0 drops the stream's data and never closes.
	t := links.Toxic{Name: blackholeToxic, Type: "timeout", Stream: stream, Attributes: map[string]any{"timeout": 0}}
	if err := eachLink(env.BalancerLinks(f.Provider), func(l string) error { return env.AddToxic(l, t) }); err != nil {
		return fmt.Errorf("blackhole %ss on the balancer links to %s: %w", f.Direction, f.Provider, err)
	}
	return nil
}

func (f LinkBlackhole) Recover(ctx context.Context, env Env) error {
	err := eachLink(env.BalancerLinks(f.Provider), func(l string) error { return env.RemoveToxic(ctx, l, blackholeToxic) })
	if err != nil {
		return fmt.Errorf("end the blackhole on the balancer links to %s: %w", f.Provider, err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f LinkBlackhole) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, f.Provider)
}

func init() {
	register(Entry{Name: "link-blackhole", Summary: "drops one direction of the balancer's links to one provider (request or response) while connections stay open",
		New: func() Fault { return &LinkBlackhole{Provider: "p1", Direction: "request"} }})
}
