package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// DBKill sends SIGKILL to one master; Recover starts it again, and it must
// rejoin replication by itself.
type DBKill struct {
	Side string `fault:"side"` // "a" or "b"
}

func (f DBKill) Name() string   { return "db-kill" }
func (f DBKill) Target() string { return "db-" + f.Side }
func (f DBKill) Kind() Kind     { return Kind{Provider: true, Database: true, Affects: providerOf(f.Side)} }

func (f DBKill) Inject(ctx context.Context, env Env) error {
	return withDB(env, "kill database "+f.Side, func(db DB) error { return db.Kill(ctx, f.Side) })
}

func (f DBKill) Recover(ctx context.Context, env Env) error {
	return withDB(env, "start database "+f.Side, func(db DB) error { return db.Start(ctx, f.Side) })
}

// withDB runs f on the lab's database pair, naming what was being done.
func withDB(env Env, doing string, f func(DB) error) error {
	db, err := env.Database()
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	if err := f(db); err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return nil
}

// providerOf names the provider whose database is side: in the lab, as on
// the seed's appliances, provider 1 uses master a and provider 2 master b.
func providerOf(side string) string {
	if side == "b" {
		return "p2"
	}
	return "p1"
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f DBKill) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, providerOf(f.Side))
}

func init() {
	register(Entry{Name: "db-kill", NeedsDatabase: true, Summary: "SIGKILLs one master; recover starts it again", New: func() Fault { return &DBKill{Side: "a"} }})
}
