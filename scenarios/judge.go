package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
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
	return reports.Scenario{
		Name: sc.Name, Description: sc.Description, Started: h.Meta.Started, Ended: h.Meta.Ended,
		Negative: sc.Negative, Expect: sc.ExpectFail,
		Invariants: check.Run(h, sc.invariants()),
		Timeline:   check.Timeline(h, TimelineBucket(dur)),
		Faults:     check.FaultWindows(h),
		Measures:   h.Final.Measures,
	}, nil
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
