package faults

import "context"

// DBRestart stops one master cleanly and starts it again on Recover, as a
// maintenance restart does.
type DBRestart struct {
	Lab  Lab
	Side string
}

func (f DBRestart) Name() string   { return "db-restart" }
func (f DBRestart) Target() string { return "db-" + f.Side }
func (f DBRestart) Kind() Kind {
	return Kind{Provider: true, Database: true, Affects: providerOf(f.Side)}
}

func (f DBRestart) Inject(ctx context.Context) error {
	return withDB(f.Lab, "stop database "+f.Side, func(db DB) error { return db.Stop(ctx, f.Side) })
}

func (f DBRestart) Recover(ctx context.Context) error {
	return withDB(f.Lab, "start database "+f.Side, func(db DB) error { return db.Start(ctx, f.Side) })
}
