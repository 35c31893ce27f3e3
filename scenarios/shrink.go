package scenarios

import (
	"context"
	"fmt"
	"slices"
)

// ShrinkRunner runs a candidate schedule and returns the invariants that
// failed (an error when the run could not be judged).
type ShrinkRunner func(ctx context.Context, f ScenarioFile) (failed []string, err error)

// ShrinkStep is one tried candidate: its faults and whether it still
// failed every target invariant.
type ShrinkStep struct {
	Faults []string
	Failed []string
	Fails  bool
	Err    string
}

// Shrink looks for a smallest schedule that still fails every one of
// target (so the failure it keeps is the one that was seen, not another),
// same seed, lab and load otherwise: it drops one fault at a time, keeps
// every drop after which the run still fails, and goes round until no
// single drop keeps the failure (a 1-minimal schedule, as delta debugging
// finds), or maxRuns runs were spent. It returns the schedule found and
// every run it made. The first run re-runs the full schedule: a failure
// that does not come back is reported, not shrunk.
func Shrink(ctx context.Context, full ScenarioFile, target []string, maxRuns int, run ShrinkRunner) (ScenarioFile, []ShrinkStep, error) {
	var steps []ShrinkStep
	try := func(faults []string) (bool, error) {
		cand := full
		cand.Faults = faults
		failed, err := run(ctx, cand)
		st := ShrinkStep{Faults: faults, Failed: failed}
		if err != nil {
			st.Err = err.Error()
		}
		st.Fails = err == nil && len(target) > 0 && !slices.ContainsFunc(target, func(n string) bool { return !slices.Contains(failed, n) })
		steps = append(steps, st)
		return st.Fails, ctx.Err()
	}
	fails, err := try(full.Faults)
	if err != nil {
		return full, steps, err
	}
	if !fails {
		return full, steps, fmt.Errorf("the full schedule did not fail %v again (failed: %v): the failure does not reproduce with this seed, so there is nothing to shrink", target, steps[0].Failed)
	}
	cur := slices.Clone(full.Faults)
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(cur); i++ {
			if len(steps) >= maxRuns {
				out := full
				out.Faults = cur
				return out, steps, fmt.Errorf("stopped after %d runs: the schedule is smaller but may not be minimal", maxRuns)
			}
			cand := slices.Delete(slices.Clone(cur), i, i+1)
			fails, err := try(cand)
			if err != nil {
				out := full
				out.Faults = cur
				return out, steps, err
			}
			if fails {
				cur, changed = cand, true
				i--
			}
		}
	}
	out := full
	out.Faults = cur
	return out, steps, nil
}
