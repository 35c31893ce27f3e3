package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// Judge judges a recorded history again with its scenario's invariants and
// bounds, as the scenario is defined now (lookup finds it by name, usually
// catalogue.Lookup). It needs nothing but the history.
func Judge(h *history.History, lookup func(name string) (Spec, error)) (reports.Scenario, error) {
	spec, err := lookup(h.Meta.Scenario)
	if err != nil {
		return reports.Scenario{}, fmt.Errorf("judge history of %q: %w (a history written by 'regify-verify check' is judged with the invariants of its run's report.json: keep report.json next to history/)", h.Meta.Scenario, err)
	}
	sc := spec()
	dur := h.Meta.Ended.Sub(h.Meta.Started)
	if dur <= 0 {
		dur = DefaultDuration
	}
	rep := reports.Scenario{
		Name: sc.Name, Description: sc.Description, Started: h.Meta.Started, Ended: h.Meta.Ended,
		Negative: sc.Negative, Expect: sc.ExpectFail,
		Invariants: check.Run(h, sc.invariants()),
		Timeline:   check.Timeline(h, TimelineBucket(dur)),
		Faults:     check.FaultWindows(h),
		Measures:   h.Final.Measures,
	}
	// The verdict is earned again, as in the run: every fault must show
	// its effect in the history and every required invariant be judged.
	load := h.Meta.Load
	if load <= 0 {
		load = dur
	}
	steps, err := sc.Steps(h.Meta.Seed, load)
	if err != nil {
		return reports.Scenario{}, fmt.Errorf("judge history of %q: %w", h.Meta.Scenario, err)
	}
	if planned, err := Plan(steps, h.Meta.Seed); err == nil {
		rep.Schedule, rep.Load, rep.ScheduleDrawn = schedule(planned), load, sc.Draw != nil
	}
	rep.NotJudged = append(rep.NotJudged, faultsBit(h, scheduledFaults(h, steps), rep.Faults)...)
	rep.NotJudged = append(rep.NotJudged, requiredJudged(sc.Requires, rep.Invariants)...)
	return rep, nil
}

// scheduledFaults pairs the history's fault records with the scenario's
// schedule, in order, by name and target: the faults whose effects can be
// checked again. A record the schedule does not hold (a drill's) is left
// out, as it was not checked in the run either.
func scheduledFaults(h *history.History, steps []Step) []faults.Injected {
	used := make([]bool, len(steps))
	var out []faults.Injected
	for _, rec := range h.Faults {
		for i, st := range steps {
			if !used[i] && st.Fault != nil && st.Fault.Name() == rec.Name && st.Fault.Target() == rec.Target {
				used[i] = true
				out = append(out, faults.Injected{Fault: st.Fault, ID: rec.ID, At: rec.Injected})
				break
			}
		}
	}
	return out
}

// ReadHistories reads every *.jsonl history in dir, sorted by file name.
func ReadHistories(dir string) ([]*history.History, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("list histories in %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no histories (*.jsonl) in %s: pass the --out directory of a run", dir)
	}
	sort.Strings(paths)
	var out []*history.History
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("open history: %w", err)
		}
		h, err := history.Read(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read history %s: %w", p, err)
		}
		out = append(out, h)
	}
	return out, nil
}
