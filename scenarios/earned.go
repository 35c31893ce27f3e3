package scenarios

import (
	"fmt"
	"slices"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// notChecked is the effect of a fault that declares none: said, not hidden.
const notChecked = "not checked: this fault declares no effect the history could show"

// faultsBit checks that every injected fault that declares an effect took
// it, writes what was seen into the report's fault windows, and returns a
// reason for each fault that did not.
func faultsBit(h *history.History, injected []faults.Injected, windows []reports.FaultWindow) []string {
	var out []string
	for _, in := range injected {
		i := slices.IndexFunc(h.Faults, func(f history.Fault) bool { return f.ID == in.ID })
		if i < 0 {
			continue
		}
		rec := &h.Faults[i]
		if rec.Err != "" {
			continue // injecting it failed: the scenario's error says so
		}
		why, bit := notChecked, true
		if e, ok := in.Fault.(faults.Effect); ok {
			why, bit = e.Bit(h, rec)
		}
		if w := slices.IndexFunc(windows, func(w reports.FaultWindow) bool {
			return w.Name == rec.Name && w.Injected.Equal(rec.Injected)
		}); w >= 0 {
			windows[w].Effect = why
		}
		if !bit {
			out = append(out, fmt.Sprintf("fault %s on %s did not take effect: %s", rec.Name, rec.Target, why))
		}
	}
	return out
}

// requiredJudged returns a reason for each invariant the scenario exists
// for that was skipped or not judged at all.
func requiredJudged(required []string, invs []reports.Invariant) []string {
	var out []string
	for _, name := range required {
		i := slices.IndexFunc(invs, func(v reports.Invariant) bool { return v.Name == name })
		switch {
		case i < 0:
			out = append(out, fmt.Sprintf("invariant %s, which this scenario exists to judge, was not run", name))
		case invs[i].Verdict == reports.Skip:
			out = append(out, fmt.Sprintf("invariant %s, which this scenario exists to judge, was skipped: %s", name, invs[i].Summary))
		}
	}
	return out
}
