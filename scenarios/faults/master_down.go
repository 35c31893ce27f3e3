package faults

import (
	"context"
	"errors"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// MasterDown is the seed's minimum-redundancy incident and its manual
// remedy: Inject crashes the master provider and kills its database;
// Recover is the operator's switch to the slave — promote the standby
// database (stop its replica threads) and put the standby provider into
// the balancer's service. The dead master stays dead.
type MasterDown struct {
	Provider    string `fault:"provider"`     // the master provider
	Side        string `fault:"side"`         // its database
	Standby     string `fault:"standby"`      // the slave provider
	StandbySide string `fault:"standby_side"` // the slave's database
}

func (f MasterDown) Name() string   { return "master-down" }
func (f MasterDown) Target() string { return f.Provider + "+db-" + f.Side }
func (f MasterDown) Kind() Kind {
	return Kind{Provider: true, Database: true, Affects: f.Provider}
}

func (f MasterDown) Inject(ctx context.Context, env Env) error {
	err := env.CrashProvider(ctx, f.Provider)
	if err != nil {
		err = fmt.Errorf("crash provider %s: %w", f.Provider, err)
	}
	return errors.Join(err, withDB(env, "kill database "+f.Side, func(db DB) error { return db.Kill(ctx, f.Side) }))
}

func (f MasterDown) Recover(ctx context.Context, env Env) error {
	err := withDB(env, "promote database "+f.StandbySide, func(db DB) error { return db.StopReplica(ctx, f.StandbySide) })
	if lerr := eachLink(env.BalancerLinks(f.Standby), env.RestoreLink); lerr != nil {
		err = errors.Join(err, fmt.Errorf("put standby %s into service: %w", f.Standby, lerr))
	}
	return err
}

// Bit: the clients on the provider it takes out were disrupted or moved.
func (f MasterDown) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return providerBit(h, rec, f.Provider)
}

func init() {
	register(Entry{Name: "master-down", NeedsDatabase: true,
		Summary: "kills the master provider and its database; recover is the manual switch to the slave (minimum redundancy)",
		New:     func() Fault { return &MasterDown{Provider: "p1", Side: "a", Standby: "p2", StandbySide: "b"} }})
}
