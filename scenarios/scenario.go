// Package scenarios is the engine of regify-verify: it runs a Scenario (a
// topology, a load profile, a fault schedule and the invariants that judge
// it) in an Environment — the built-in lab or an operator's deployment —
// through the phases of Execute, and gathers the results into a report
// (Suite), a `go test` run (Run) or a re-judged history (Judge). The
// catalogue of scenarios is data in scenarios/catalogue, which this package
// never imports.
package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// Scenario is data plus a little code: what to build, how to load it, what
// to break when, and what must hold.
type Scenario struct {
	Name        string
	Description string
	// Lab changes the base lab options: broken modes, database, TLS mode.
	Lab func(o *harness.Options)
	// Users, Rate (requests/s) and Duration of the load; zero takes the
	// run's defaults.
	Users    int
	Rate     int
	Duration time.Duration
	// Faults is the schedule, placed in time by the run's seed.
	Faults []Step
	// Draw, when set, draws more steps from the run's seed for a load of
	// the given length (the nemesis): the same seed, the same steps.
	Draw func(seed int64, load time.Duration) ([]Step, error)
	// Bounds tunes the invariants; nil keeps check.DefaultBounds.
	Bounds func(b *check.Bounds)
	// Invariants lists the canonical names judged; empty judges all.
	Invariants []string
	// Checks, when set, are the invariants with their bounds, judged as
	// given instead of Invariants and Bounds (deployment runs build them
	// from the deployment file).
	Checks []check.Invariant
	// Requires names the invariants the scenario exists for: when one of
	// them is skipped the scenario is incomplete (not judged), never a pass.
	// (A negative control is judged by ExpectFail: one that did not fail
	// reads FAIL, or INCOMPLETE when a fault did not take effect.)
	Requires []string
	// Negative marks a negative control: ExpectFail must fail.
	Negative   bool
	ExpectFail []string
	// Drill, when set, runs during the load instead of a fault schedule:
	// a procedure such as the minimum-redundancy switchover. It records
	// its faults in the recorder and returns measures (RTO, RPO).
	Drill func(ctx context.Context, d *DrillEnv) (map[string]float64, error)
	// ConvergeBound is how long to wait after the load for the masters to
	// converge; zero takes the default. Broken setups that never converge
	// use a short one.
	ConvergeBound time.Duration
	// EndsDegraded says the scenario leaves a backend out of service by
	// design (the drill's dead master): the balancer's end state is not
	// recorded, so failover does not ask for every backend back.
	EndsDegraded bool
	// Prepare, when set, runs after the lab is up and before any request.
	Prepare func(ctx context.Context, lab *harness.Lab) error
	// NeedsDatabase marks scenarios that need the MariaDB pair.
	NeedsDatabase bool
	// Disruptive marks a scenario whose faults kill, freeze or restart a
	// server process or container (the nemesis, a database's crash,
	// pause or restart, a provider process's kill or pause): when
	// scenarios run side by side, at most one such runs at a time. Two
	// side by side, or one beside the nemesis, slowed the survivors from
	// 10 ms to 300 ms a request and stretched fail-overs past their
	// bound (BENCHMARKS.md).
	Disruptive bool
}

// Spec builds a scenario. A catalogue is a list of specs, so nothing in
// it is shared mutable state.
type Spec func() Scenario

// invariants selects the scenario's invariants with its bounds.
func (s Scenario) invariants() []check.Invariant {
	if len(s.Checks) > 0 {
		return s.Checks
	}
	b := LabBounds()
	if s.Bounds != nil {
		s.Bounds(&b)
	}
	all := check.All(b)
	if len(s.Invariants) == 0 {
		return all
	}
	want := map[string]bool{}
	for _, n := range s.Invariants {
		want[n] = true
	}
	var out []check.Invariant
	for _, inv := range all {
		if want[inv.Name()] {
			out = append(out, inv)
		}
	}
	return out
}

// Fingerprint is a stable text of everything that decides the scenario's
// outcome: its load, its fault schedule (each fault with its knobs), the
// lab it changes, its invariants and their bounds. The report's
// configuration hash is built from it, so the hash changes when a
// definition changes, not only when a name does.
func (s Scenario) Fingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|users=%d rate=%d dur=%s db=%t neg=%t expect=%v requires=%v invariants=%v converge=%s degraded=%t",
		s.Name, s.Description, s.Users, s.Rate, s.Duration, s.NeedsDatabase, s.Negative, s.ExpectFail, s.Requires,
		s.Invariants, s.ConvergeBound, s.EndsDegraded)
	for _, st := range s.Faults {
		fmt.Fprintf(&b, "|fault %s at=%s for=%s jitter=%s %T%+v", st.Fault.Name(), st.At, st.For, st.Jitter, st.Fault, st.Fault)
	}
	var o harness.Options
	if s.Lab != nil {
		s.Lab(&o)
	}
	o.Logger = nil
	fmt.Fprintf(&b, "|lab %+v|drill=%t prepare=%t draw=%t", o, s.Drill != nil, s.Prepare != nil, s.Draw != nil)
	for _, inv := range s.invariants() {
		fmt.Fprintf(&b, "|%T%+v", inv, inv)
	}
	return b.String()
}

// Steps are the scenario's fault steps for a run with this seed and load
// length: Faults plus what Draw draws.
func (s Scenario) Steps(seed int64, load time.Duration) ([]Step, error) {
	if s.Draw == nil {
		return s.Faults, nil
	}
	drawn, err := s.Draw(seed, load)
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(s.Faults), drawn...), nil
}
