package faults

import (
	"context"

	"github.com/regify-verify/regify-verify/history"
)

// Permanent is a broken setting that lasts the whole run (negative
// controls): its kind excuses nothing, and it is never recovered, so the
// final state still shows it (the lab is thrown away afterwards).
type Permanent struct{ Fault }

func (p Permanent) Kind() Kind { return Kind{} }

// Recover leaves the breakage in place for the final state to show.
func (p Permanent) Recover(context.Context, Env) error { return nil }

// Bit is the wrapped fault's, when it declares one.
func (p Permanent) Bit(h *history.History, rec *history.Fault) (string, bool) {
	if e, ok := p.Fault.(Effect); ok {
		return e.Bit(h, rec)
	}
	return "", true
}
