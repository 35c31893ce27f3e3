package faults

import (
	"context"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// ReplicationDelay makes Side apply the other master's writes Delay late
// (MASTER_DELAY), a precise stand-in for a slow WAN link.
type ReplicationDelay struct {
	Side  string        `fault:"side"`
	Delay time.Duration `fault:"delay"`
}

func (f ReplicationDelay) Name() string   { return "replication-delay" }
func (f ReplicationDelay) Target() string { return "replica-" + f.Side }
func (f ReplicationDelay) Kind() Kind     { return Kind{Database: true} }

func (f ReplicationDelay) Inject(ctx context.Context, env Env) error {
	return withDB(env, "delay replica "+f.Side, func(db DB) error { return db.SetReplicationDelay(ctx, f.Side, f.Delay) })
}

func (f ReplicationDelay) Recover(ctx context.Context, env Env) error {
	return withDB(env, "end delay of replica "+f.Side, func(db DB) error { return db.SetReplicationDelay(ctx, f.Side, 0) })
}

// Bit: replication lag grew inside its window, or a replica thread stopped.
func (f ReplicationDelay) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return lagBit(h, rec, f.Delay/2)
}

func init() {
	register(Entry{Name: "replication-delay", NeedsDatabase: true, Summary: "makes one master apply the other's writes late (MASTER_DELAY)", New: func() Fault { return &ReplicationDelay{Side: "b", Delay: 2 * time.Second} }})
}
