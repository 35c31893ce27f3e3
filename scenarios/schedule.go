package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// Step places one fault in a scenario's time line.
type Step struct {
	// At is when the fault is injected, from the start of the load.
	At time.Duration
	// For is how long it lasts before Recover.
	For time.Duration
	// Jitter moves At by up to ±Jitter, chosen from the run's seed.
	Jitter time.Duration
	// Fault is what is injected (a value of package faults).
	Fault faults.Fault
}

// Planned is a step with its time fixed by the seed.
type Planned struct {
	At, For time.Duration
	Fault   faults.Fault
}

// Plan fixes every step's time from the seed: the same seed always gives
// the same schedule. Steps come back ordered by injection time.
func Plan(steps []Step, seed int64) ([]Planned, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7265676966792d76)) // "regify-v"
	out := make([]Planned, 0, len(steps))
	for i, s := range steps {
		if s.Fault == nil {
			return nil, fmt.Errorf("fault step %d has no fault", i+1)
		}
		if s.For <= 0 {
			return nil, fmt.Errorf("fault step %d: duration %s must be positive", i+1, s.For)
		}
		at := s.At
		if s.Jitter > 0 {
			at += time.Duration(rng.Int64N(int64(2*s.Jitter)+1)) - s.Jitter
		}
		if at < 0 {
			at = 0
		}
		out = append(out, Planned{At: at, For: s.For, Fault: s.Fault})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out, nil
}

// schedule is the planned faults as the report shows them.
func schedule(planned []Planned) []reports.PlannedFault {
	out := make([]reports.PlannedFault, 0, len(planned))
	for _, p := range planned {
		out = append(out, reports.PlannedFault{At: p.At, For: p.For, Name: p.Fault.Name(), Target: p.Fault.Target(), Spec: SpecOf(p)})
	}
	return out
}

// runSchedule injects and recovers the planned faults at their times. A
// fault that was injected is always recovered, also when ctx ends.
func runSchedule(ctx context.Context, planned []Planned, start time.Time, in faults.Injector, stop func() bool) error {
	var errs []error
	type open struct {
		p   Planned
		inj faults.Injected
		at  time.Time
	}
	var pending []open
	recoverOne := func(o open) {
		if err := in.Recover(ctx, o.inj); err != nil {
			errs = append(errs, err)
		}
	}
	defer func() {
		for _, o := range pending {
			recoverOne(o)
		}
	}()
	due := func(o open) time.Time { return o.at.Add(o.p.For) }
	// wait sleeps until t; with faults open and a stop condition it polls
	// the condition, and a breach recovers every open fault at once.
	wait := func(t time.Time) bool {
		if stop == nil || len(pending) == 0 {
			return SleepUntil(ctx, t)
		}
		for {
			next := time.Now().Add(stopPoll)
			if !next.Before(t) {
				return SleepUntil(ctx, t)
			}
			if !SleepUntil(ctx, next) {
				return false
			}
			if stop() {
				for _, o := range pending {
					recoverOne(o)
				}
				pending = nil
				return false
			}
		}
	}
	for _, p := range planned {
		// Recover the faults whose time is up before injecting the next.
		for len(pending) > 0 && !due(pending[0]).After(start.Add(p.At)) {
			if !wait(due(pending[0])) {
				return errors.Join(errs...)
			}
			recoverOne(pending[0])
			pending = pending[1:]
		}
		if !wait(start.Add(p.At)) {
			return errors.Join(errs...)
		}
		at := time.Now()
		inj, err := in.Inject(ctx, p.Fault)
		if err != nil {
			errs = append(errs, err)
		}
		pending = append(pending, open{p: p, inj: inj, at: at})
		sort.SliceStable(pending, func(i, j int) bool { return due(pending[i]).Before(due(pending[j])) })
	}
	for len(pending) > 0 {
		if !wait(due(pending[0])) {
			return errors.Join(errs...)
		}
		recoverOne(pending[0])
		pending = pending[1:]
	}
	return errors.Join(errs...)
}

// stopPoll is how often a stop condition is asked while a fault is in.
const stopPoll = 100 * time.Millisecond

// SleepUntil waits until t or until ctx ends; it reports whether t came.
func SleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
