package faults

import (
	"context"

	"github.com/regify-verify/regify-verify/history"
)

// DBPause freezes one master (SIGSTOP of its container): connections stay
// open and nothing answers, the hardest database failure to detect.
type DBPause struct {
	Side string `fault:"side"`
}

func (f DBPause) Name() string   { return "db-pause" }
func (f DBPause) Target() string { return "db-" + f.Side }
func (f DBPause) Kind() Kind {
	return Kind{Provider: true, Database: true, Affects: providerOf(f.Side)}
}

func (f DBPause) Inject(ctx context.Context, env Env) error {
	return withDB(env, "pause database "+f.Side, func(db DB) error { return db.Pause(ctx, f.Side) })
}

func (f DBPause) Recover(ctx context.Context, env Env) error {
	return withDB(env, "unpause database "+f.Side, func(db DB) error { return db.Unpause(ctx, f.Side) })
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f DBPause) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, providerOf(f.Side))
}

func init() {
	register(Entry{Name: "db-pause", NeedsDatabase: true, Summary: "freezes one master (SIGSTOP or docker pause); recover thaws it", New: func() Fault { return &DBPause{Side: "a"} }})
}
