package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// LinkOneway cuts a link in one direction only: the bytes sent that way
// vanish while connections stay open and nothing is reset, the half-broken
// link a stateful firewall or an asymmetric route leaves; only timeouts
// notice it. Direction is request (what the connecting side sends: the
// balancer's requests, a provider's queries or clearing calls) or response
// (what comes back). Link picks the wires as for link-cut; link-blackhole
// is this fault on the balancer's wires.
//
// On link=replication, Direction is a-to-b (master a's writes no longer
// reach b) or b-to-a. The replication stream is no proxied wire, so this
// stops the receiving master's replica threads (replication-stop) — the
// same lag as a one-way cut, with the threads stopped instead of waiting.
type LinkOneway struct {
	Provider  string `fault:"provider"`
	Link      string `fault:"link"`
	Clearing  int    `fault:"clearing"`
	Direction string `fault:"direction"`
}

const onewayToxic = "link-oneway"

func (f LinkOneway) w() wires       { return wires{f.Link, f.Provider, f.Clearing} }
func (f LinkOneway) Name() string   { return "link-oneway" }
func (f LinkOneway) Target() string { return describe(f.w().target(), f.Direction) }
func (f LinkOneway) Kind() Kind     { return f.w().kind(true) }

// receiver is the master that stops applying the other's writes.
func (f LinkOneway) receiver() (string, error) {
	switch f.Direction {
	case dirAToB:
		return "b", nil
	case dirBToA:
		return "a", nil
	}
	return "", fmt.Errorf("direction %q on link=replication: want %s or %s", f.Direction, dirAToB, dirBToA)
}

// Validate refuses knobs that name no wires and a direction of another.
func (f LinkOneway) Validate() error {
	if err := f.w().validate(); err != nil {
		return err
	}
	if f.w().class() == LinkReplication {
		_, err := f.receiver()
		return err
	}
	if f.Direction != dirRequest && f.Direction != dirResponse {
		return fmt.Errorf("direction %q: want %s or %s (both ways is link-cut)", f.Direction, dirRequest, dirResponse)
	}
	return nil
}

// NeedsDatabase: the database and replication links need the pair.
func (f LinkOneway) NeedsDatabase() bool { return f.w().needsDatabase() }

func (f LinkOneway) Inject(ctx context.Context, env Env) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.w().class() == LinkReplication {
		side, _ := f.receiver()
		return withDB(env, "stop replica "+side, func(db DB) error { return db.StopReplica(ctx, side) })
	}
	// A timeout toxic of 0 drops the stream's data and never closes.
	if err := addToxics(env, f.w(), onewayToxic, f.Direction, "timeout", map[string]any{"timeout": 0}); err != nil {
		return fmt.Errorf("drop the %ss on %s: %w", f.Direction, f.w().target(), err)
	}
	return nil
}

func (f LinkOneway) Recover(ctx context.Context, env Env) error {
	if f.Validate() != nil {
		return nil // Inject refused it: nothing to mend
	}
	if f.w().class() == LinkReplication {
		side, _ := f.receiver()
		return withDB(env, "start replica "+side, func(db DB) error { return db.StartReplica(ctx, side) })
	}
	if err := removeToxics(ctx, env, f.w(), onewayToxic, f.Direction); err != nil {
		return fmt.Errorf("pass the %ss on %s again: %w", f.Direction, f.w().target(), err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved;
// on replication the lag grew or the replica stopped; on a clearing
// connection each send waited for the provider's clearing timeout before
// it failed over.
func (f LinkOneway) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return f.w().breakBit(h, rec, func() (string, bool) { return f.w().slowedBit(h, rec, slowBound, false) })
}

func init() {
	register(Entry{Name: "link-oneway", Summary: "drops one direction of a link while connections stay open; link=balancer (default), database, clearing or replication (stops the receiving replica)",
		New: func() Fault { return &LinkOneway{Provider: "p1", Link: LinkBalancer, Direction: dirRequest} }})
}
