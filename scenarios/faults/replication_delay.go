package faults

import (
	"context"
	"time"
)

// ReplicationDelay makes Side apply the other master's writes Delay late
// (MASTER_DELAY), a precise stand-in for a slow WAN link.
type ReplicationDelay struct {
	Lab   Lab
	Side  string
	Delay time.Duration
}

func (f ReplicationDelay) Name() string   { return "replication-delay" }
func (f ReplicationDelay) Target() string { return "replica-" + f.Side }
func (f ReplicationDelay) Kind() Kind     { return Kind{Database: true} }

func (f ReplicationDelay) Inject(ctx context.Context) error {
	return withDB(f.Lab, "delay replica "+f.Side, func(db DB) error { return db.SetReplicationDelay(ctx, f.Side, f.Delay) })
}

func (f ReplicationDelay) Recover(ctx context.Context) error {
	return withDB(f.Lab, "end delay of replica "+f.Side, func(db DB) error { return db.SetReplicationDelay(ctx, f.Side, 0) })
}
