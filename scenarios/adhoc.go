package scenarios

import (
	"fmt"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// Step timing knobs a fault spec may carry beside the fault's own knobs,
// and their defaults.
const (
	knobAt          = "at"
	knobFor         = "for"
	knobJitter      = "jitter"
	defaultStepAt   = 2 * time.Second
	defaultStepFor  = 3 * time.Second
	adhocSettleTail = 2 * time.Second
)

// ParseStep builds a Step from a fault spec "NAME[:knob=value,...]": the
// fault's own knobs (see faults.Entry.Knobs) plus at (injection, from the
// start of the load; default 2s), for (how long it lasts; default 3s) and
// jitter (±, from the seed; default none).
func ParseStep(spec string) (Step, bool, error) {
	name, knobs, err := faults.ParseSpec(spec)
	if err != nil {
		return Step{}, false, err
	}
	st := Step{At: defaultStepAt, For: defaultStepFor}
	for key, dst := range map[string]*time.Duration{knobAt: &st.At, knobFor: &st.For, knobJitter: &st.Jitter} {
		v, ok := knobs[key]
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Step{}, false, fmt.Errorf("fault spec %q: %s=%q is not a duration (write it like 500ms or 2s)", spec, key, v)
		}
		*dst = d
		delete(knobs, key)
	}
	if st.For <= 0 {
		return Step{}, false, fmt.Errorf("fault spec %q: for must be positive", spec)
	}
	f, err := faults.Build(name, knobs)
	if err != nil {
		return Step{}, false, fmt.Errorf("fault spec %q: %w", spec, err)
	}
	st.Fault = f
	// The link faults' link knob decides (link=database|replication).
	return st, faults.NeedsDatabase(f), nil
}

// AdHoc is a scenario made on the command line from fault specs (run
// --fault): the baseline load with these faults, every invariant judged.
// The load lasts until the last fault is recovered plus a settling tail.
func AdHoc(specs []string) (Spec, error) {
	sc := Scenario{Name: "custom", Description: "faults given on the command line: " + strings.Join(specs, "; ")}
	end := DefaultDuration
	for _, s := range specs {
		st, db, err := ParseStep(s)
		if err != nil {
			return nil, err
		}
		sc.Faults = append(sc.Faults, st)
		sc.NeedsDatabase = sc.NeedsDatabase || db
		if faults.NeedsProcesses(st.Fault) {
			sc.Lab = withProviderProcesses
		}
		end = max(end, st.At+st.Jitter+st.For+adhocSettleTail)
	}
	sc.Duration = end
	return func() Scenario { return sc }, nil
}

// withProviderProcesses runs a lab's providers as processes.
func withProviderProcesses(o *harness.Options) { o.Providers = harness.ProvidersProcess }
