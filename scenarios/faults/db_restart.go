package faults

import (
	"context"

	"github.com/regify-verify/regify-verify/history"
)

// DBRestart stops one master cleanly and starts it again on Recover, as a
// maintenance restart does.
type DBRestart struct {
	Side string `fault:"side"`
}

func (f DBRestart) Name() string   { return "db-restart" }
func (f DBRestart) Target() string { return "db-" + f.Side }
func (f DBRestart) Kind() Kind {
	return Kind{Provider: true, Database: true, Affects: providerOf(f.Side)}
}

func (f DBRestart) Inject(ctx context.Context, env Env) error {
	return withDB(env, "stop database "+f.Side, func(db DB) error { return db.Stop(ctx, f.Side) })
}

func (f DBRestart) Recover(ctx context.Context, env Env) error {
	return withDB(env, "start database "+f.Side, func(db DB) error { return db.Start(ctx, f.Side) })
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f DBRestart) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, providerOf(f.Side))
}

func init() {
	register(Entry{Name: "db-restart", NeedsDatabase: true, Summary: "stops one master cleanly; recover starts it again", New: func() Fault { return &DBRestart{Side: "a"} }})
}
