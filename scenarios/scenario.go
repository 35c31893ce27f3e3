// Package scenarios is the heart of regify-verify: a catalogue of scenarios
// (one a file), each a lab topology, a load profile, a fault schedule and the
// invariants that judge the run; the runner that executes them; and the
// `go test` API (Run) for users' own tests.
package scenarios

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
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
	// Bounds tunes the invariants; nil keeps check.DefaultBounds.
	Bounds func(b *check.Bounds)
	// Invariants lists the canonical names judged; empty judges all.
	Invariants []string
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
}

// Spec builds a scenario. The catalogue is a list of specs, so nothing in
// it is shared mutable state.
type Spec func() Scenario

// DrillEnv is what a drill gets: the lab and the run's recorder.
type DrillEnv struct {
	Lab      *harness.Lab
	Recorder *history.Recorder
	// Start is when the load began.
	Start time.Time
	// Duration is how long the load runs.
	Duration time.Duration
}

// Catalogue lists every scenario, negative controls included, in report order.
func Catalogue() []Spec {
	return []Spec{
		Baseline,
		RedirectAndTLS,
		ProviderCrash,
		ProviderHang,
		ProviderSlow,
		LinkCut,
		LinkReset,
		ClearingLinkCut,
		Passthrough,
		PassthroughProviderCrash,
		DatabaseCrash,
		DatabasePause,
		DatabaseRestart,
		ProviderDatabaseCut,
		ReplicationCutAndHeal,
		ReplicationLag,
		ConflictingWrites,
		MinimumRedundancyDrill,
		NegRoundRobin,
		NegCookiePersistence,
		NegNoRedirect,
		NegRedirectDropsQuery,
		NegRedirectWrongHost,
		NegNoForwardedProto,
		NegWrongCertificate,
		NegNoHealthChecks,
		NegNonRotatingCookie,
		NegOldTokensValid,
		NegSingleClearing,
		NegStoppedReplication,
		NegReplicationLag,
		NegEqualAutoIncrement,
		NegSessionLossRoundRobin,
	}
}

// Find returns the catalogue's specs with the given names, in catalogue
// order; an unknown name is an error that lists the known ones.
func Find(names ...string) ([]Spec, error) {
	all := Catalogue()
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]Spec{}
	var known []string
	for _, s := range all {
		n := s().Name
		byName[n] = s
		known = append(known, n)
	}
	want := map[string]bool{}
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if _, ok := byName[part]; !ok {
				sort.Strings(known)
				return nil, fmt.Errorf("unknown scenario %q; known scenarios: %s", part, strings.Join(known, ", "))
			}
			want[part] = true
		}
	}
	if len(want) == 0 {
		return all, nil // only empty names: the whole catalogue
	}
	var out []Spec
	for _, s := range all {
		if want[s().Name] {
			out = append(out, s)
		}
	}
	return out, nil
}

// LabBounds are the invariants' bounds for the built-in lab: its balancer
// checks health every 250 ms and marks a backend down after 2 failures, so
// a failover must complete well within 2.5 s. Replication lag is bounded at
// 2 s: a healthy pair lags about a millisecond, but a 2-core machine running
// the whole lab can starve a server for a second now and then.
func LabBounds() check.Bounds {
	b := check.DefaultBounds()
	b.MaxRecovery = 2500 * time.Millisecond
	b.FailoverBudget = 150
	b.MaxLag = 2 * time.Second
	b.MaxConvergeWait = convergeBound
	return b
}

// invariants selects the scenario's invariants with its bounds.
func (s Scenario) invariants() []check.Invariant {
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
