package faults

import (
	"context"

	"github.com/regify-verify/regify-verify/history"
)

// ReplicationCut cuts the network between the two masters (both directions)
// while both stay reachable for their providers: a split brain in waiting.
type ReplicationCut struct {
}

func (f ReplicationCut) Name() string   { return "replication-cut" }
func (f ReplicationCut) Target() string { return "replication" }
func (f ReplicationCut) Kind() Kind     { return Kind{Database: true} }

func (f ReplicationCut) Inject(ctx context.Context, env Env) error {
	return withDB(env, "cut replication", func(db DB) error { return db.CutReplication(ctx) })
}

func (f ReplicationCut) Recover(ctx context.Context, env Env) error {
	return withDB(env, "heal replication", func(db DB) error { return db.HealReplication(ctx) })
}

// Bit: replication lag grew inside its window, or a replica thread stopped.
func (f ReplicationCut) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return lagBit(h, rec, lagBound)
}

func init() {
	register(Entry{Name: "replication-cut", NeedsDatabase: true, Summary: "cuts the replication link between the masters in both directions", New: func() Fault { return &ReplicationCut{} }})
}
