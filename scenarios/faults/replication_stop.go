package faults

import "context"

// ReplicationStop stops one direction of replication: Side stops applying
// what the other master writes (STOP SLAVE on Side).
type ReplicationStop struct {
	Lab  Lab
	Side string
}

func (f ReplicationStop) Name() string   { return "replication-stop" }
func (f ReplicationStop) Target() string { return "replica-" + f.Side }
func (f ReplicationStop) Kind() Kind     { return Kind{Database: true} }

func (f ReplicationStop) Inject(ctx context.Context) error {
	return withDB(f.Lab, "stop replica "+f.Side, func(db DB) error { return db.StopReplica(ctx, f.Side) })
}

func (f ReplicationStop) Recover(ctx context.Context) error {
	return withDB(f.Lab, "start replica "+f.Side, func(db DB) error { return db.StartReplica(ctx, f.Side) })
}
