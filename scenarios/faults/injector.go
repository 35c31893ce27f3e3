package faults

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// Injector injects faults into an environment and records each in the
// history: the one way a fault reaches a run, for schedules and drills.
type Injector struct {
	Env Env
	Rec *history.Recorder
	Log *slog.Logger // nil logs nothing
	// OnInject, when set, is told of every fault injected (the engine keeps
	// them to check afterwards that each took effect).
	OnInject func(Injected)
}

// Injected is a fault that was injected, for Recover.
type Injected struct {
	Fault Fault
	ID    int       // the fault's record in the history
	At    time.Time // when it was injected
}

// Inject injects f now and records it, also when injecting failed (a
// partial injection must still be recovered).
func (in Injector) Inject(ctx context.Context, f Fault) (Injected, error) {
	k := f.Kind()
	rec := history.Fault{Name: f.Name(), Target: f.Target(), Injected: time.Now(),
		ProviderFault: k.Provider, DatabaseFault: k.Database, BalancerFault: k.Balancer, Provider: k.Affects}
	err := f.Inject(ctx, in.Env)
	if err != nil {
		rec.Err = err.Error()
		err = fmt.Errorf("inject %s on %s: %w", rec.Name, rec.Target, err)
	}
	if d, ok := f.(interface{ Detail() string }); ok {
		rec.Detail = d.Detail()
	}
	id := in.Rec.Fault(rec)
	in.logger().Info("fault injected", "fault", rec.Name, "target", rec.Target)
	inj := Injected{Fault: f, ID: id, At: rec.Injected}
	if in.OnInject != nil {
		in.OnInject(inj)
	}
	return inj, err
}

// Recover recovers an injected fault and records when. It runs even when
// ctx has ended: what was broken is always mended.
func (in Injector) Recover(ctx context.Context, i Injected) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := i.Fault.Recover(rctx, in.Env)
	text := ""
	if err != nil {
		text = err.Error()
		err = fmt.Errorf("recover %s on %s: %w", i.Fault.Name(), i.Fault.Target(), err)
	}
	in.logger().Info("fault recovered", "fault", i.Fault.Name(), "target", i.Fault.Target())
	_ = in.Rec.Recovered(i.ID, time.Now(), text)
	return err
}

func (in Injector) logger() *slog.Logger {
	if in.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Log
}
