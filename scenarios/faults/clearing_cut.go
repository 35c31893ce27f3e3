package faults

import (
	"context"
	"fmt"
)

// ClearingCut cuts every provider's connection number Clearing to the
// clearing service; with a redundant clearing connection no message may
// fail or be cleared twice.
type ClearingCut struct {
	Clearing int `fault:"clearing"` // index into the lab's clearing connections
}

func (f ClearingCut) Name() string   { return "clearing-cut" }
func (f ClearingCut) Target() string { return fmt.Sprintf("clearing-connection-%d", f.Clearing+1) }

// Kind: the redundant connection must hide this fault completely.
func (f ClearingCut) Kind() Kind { return Kind{} }

func (f ClearingCut) Inject(ctx context.Context, env Env) error {
	if err := eachLink(env.ClearingLinks(f.Clearing), env.CutLink); err != nil {
		return fmt.Errorf("cut clearing link %d: %w", f.Clearing+1, err)
	}
	return nil
}

func (f ClearingCut) Recover(ctx context.Context, env Env) error {
	if err := eachLink(env.ClearingLinks(f.Clearing), env.RestoreLink); err != nil {
		return fmt.Errorf("restore clearing link %d: %w", f.Clearing+1, err)
	}
	return nil
}

func init() {
	register(Entry{Name: "clearing-cut", Summary: "cuts every provider's connection to one clearing service (the redundant one must hide it)", New: func() Fault { return &ClearingCut{} }})
}
