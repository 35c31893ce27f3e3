package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// LinkReset makes every connection on a link end in a TCP reset, as a
// flapping firewall does: After (default 0, at once) after the connecting
// side first sends on it. Link picks the wires as for link-cut; the
// replication stream is no proxied wire and cannot be reset.
type LinkReset struct {
	Provider string        `fault:"provider"`
	Link     string        `fault:"link"`
	Clearing int           `fault:"clearing"`
	After    time.Duration `fault:"after"`
}

const resetToxic = "link-reset"

func (f LinkReset) w() wires     { return wires{f.Link, f.Provider, f.Clearing} }
func (f LinkReset) Name() string { return "link-reset" }
func (f LinkReset) Target() string {
	if f.After > 0 {
		return describe(f.w().target(), "after "+f.After.String())
	}
	return f.w().target()
}
func (f LinkReset) Kind() Kind { return f.w().kind(true) }

// Validate refuses knobs that name no wires, and the replication stream.
func (f LinkReset) Validate() error {
	if err := f.w().validate(); err != nil {
		return err
	}
	if f.w().class() == LinkReplication {
		return errNoReplicationWire
	}
	if f.After < 0 {
		return fmt.Errorf("after=%s: want 0 or more", f.After)
	}
	return nil
}

// NeedsDatabase: the database link needs the pair.
func (f LinkReset) NeedsDatabase() bool { return f.w().needsDatabase() }

func (f LinkReset) Inject(ctx context.Context, env Env) error {
	if err := f.Validate(); err != nil {
		return err
	}
	err := addToxics(env, f.w(), resetToxic, dirRequest, "reset_peer", map[string]any{"timeout": f.After.Milliseconds()})
	if err != nil {
		return fmt.Errorf("reset %s: %w", f.Target(), err)
	}
	return nil
}

func (f LinkReset) Recover(ctx context.Context, env Env) error {
	if f.Validate() != nil {
		return nil // Inject refused it: nothing to mend
	}
	if err := removeToxics(ctx, env, f.w(), resetToxic, dirRequest); err != nil {
		return fmt.Errorf("end resets on %s: %w", f.Target(), err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved.
// On a clearing connection a reset fails over at once, invisible to the
// history; with After it costs each send that long first.
func (f LinkReset) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return f.w().breakBit(h, rec, func() (string, bool) {
		if f.After < 2*slowBound {
			return notVisible("a reset clearing connection fails over to the redundant one at once; give after=200ms to see each send wait for the reset")
		}
		return f.w().slowedBit(h, rec, f.After/2, false)
	})
}

func init() {
	register(Entry{Name: "link-reset", Summary: "ends every connection on a link with a TCP reset, after a delay; link=balancer (default), database or clearing",
		New: func() Fault { return &LinkReset{Provider: "p1", Link: LinkBalancer} }})
}
