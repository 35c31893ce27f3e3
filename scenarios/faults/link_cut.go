package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// LinkCut cuts a link both ways: new connections are refused and live ones
// close, while both ends run on. Link picks the wires (see wires.kind for
// what each excuses): balancer (default: the balancer's wires to Provider),
// database (Provider's wire to its master; provider-db-cut), clearing
// (every provider's wire to clearing connection Clearing; clearing-cut) or
// replication (the masters' replication stream; replication-cut).
type LinkCut struct {
	Provider string `fault:"provider"`
	Link     string `fault:"link"`
	Clearing int    `fault:"clearing"`
}

func (f LinkCut) w() wires       { return wires{f.Link, f.Provider, f.Clearing} }
func (f LinkCut) Name() string   { return "link-cut" }
func (f LinkCut) Target() string { return f.w().target() }
func (f LinkCut) Kind() Kind     { return f.w().kind(true) }

// Validate refuses knobs that name no wires.
func (f LinkCut) Validate() error { return f.w().validate() }

// NeedsDatabase: the database and replication links need the pair.
func (f LinkCut) NeedsDatabase() bool { return f.w().needsDatabase() }

func (f LinkCut) Inject(ctx context.Context, env Env) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.w().class() == LinkReplication {
		return withDB(env, "cut replication", func(db DB) error { return db.CutReplication(ctx) })
	}
	names, err := f.w().names(env)
	if err == nil {
		err = eachLink(names, env.CutLink)
	}
	if err != nil {
		return fmt.Errorf("cut %s: %w", f.Target(), err)
	}
	return nil
}

func (f LinkCut) Recover(ctx context.Context, env Env) error {
	if f.Validate() != nil {
		return nil // Inject refused it: nothing to mend
	}
	if f.w().class() == LinkReplication {
		return withDB(env, "heal replication", func(db DB) error { return db.HealReplication(ctx) })
	}
	names, err := f.w().names(env)
	if err == nil {
		err = eachLink(names, env.RestoreLink)
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", f.Target(), err)
	}
	return nil
}

// Bit: the clients on the provider it takes out were disrupted or moved;
// on replication the lag grew. A cut clearing connection fails over at
// once (connection refused) and the history does not record which
// connection cleared a message, so nothing there can show it.
func (f LinkCut) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return f.w().breakBit(h, rec, func() (string, bool) {
		return notVisible("a cut clearing connection is refused at once and the provider fails over to the redundant one; the history does not record which connection cleared a message")
	})
}

func init() {
	register(Entry{Name: "link-cut", Summary: "cuts a link both ways; link=balancer (default), database, clearing or replication (the last two need the MariaDB pair)",
		New: func() Fault { return &LinkCut{Provider: "p1", Link: LinkBalancer} }})
}
