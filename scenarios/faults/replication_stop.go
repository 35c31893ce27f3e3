package faults

import (
	"context"

	"github.com/regify-verify/regify-verify/history"
)

// ReplicationStop stops one direction of replication: Side stops applying
// what the other master writes (STOP SLAVE on Side).
type ReplicationStop struct {
	Side string `fault:"side"`
}

func (f ReplicationStop) Name() string   { return "replication-stop" }
func (f ReplicationStop) Target() string { return "replica-" + f.Side }
func (f ReplicationStop) Kind() Kind     { return Kind{Database: true} }

func (f ReplicationStop) Inject(ctx context.Context, env Env) error {
	return withDB(env, "stop replica "+f.Side, func(db DB) error { return db.StopReplica(ctx, f.Side) })
}

func (f ReplicationStop) Recover(ctx context.Context, env Env) error {
	return withDB(env, "start replica "+f.Side, func(db DB) error { return db.StartReplica(ctx, f.Side) })
}

// Bit: replication lag grew inside its window, or a replica thread stopped.
func (f ReplicationStop) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return lagBit(h, rec, lagBound)
}

func init() {
	register(Entry{Name: "replication-stop", NeedsDatabase: true, Summary: "stops one master's replica threads", New: func() Fault { return &ReplicationStop{Side: "b"} }})
}
