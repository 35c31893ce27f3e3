// Package catalogue is the scenario catalogue as data: one file per
// scenario, named exactly as the scenario (provider_crash.go for
// "provider-crash"), negative controls likewise (neg_round_robin.go). The
// engine (package scenarios) runs any Spec and never imports this package.
//
// To add a scenario:
//
//  1. Create <name>.go here with a func returning scenarios.Scenario: its
//     name, a description a reader of the report understands, the lab it
//     needs (Lab, NeedsDatabase), its load and its fault Steps (values of
//     package faults, placed in time; the seed jitters them).
//  2. A negative control sets Negative and ExpectFail (use negative()).
//  3. Register it in the file's init with its rank, its place in the
//     report: `func init() { register(75, ProviderFreeze) }`.
//  4. `go test ./scenarios/catalogue/` checks it is well formed; run it with
//     `regify-verify run --scenario <name>`.
package catalogue

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// ranked is the catalogue in report order. Each scenario's file adds
// itself at init with its rank (register); afterwards it is only read, so
// it is not mutable state.
var ranked []rankedSpec

type rankedSpec struct {
	rank int
	spec scenarios.Spec
}

// register adds a scenario at init, at its place in the report: lab
// scenarios first (ranks 10–180), then negative controls (190–). A taken
// rank is a programming error.
func register(rank int, s scenarios.Spec) {
	at, taken := slices.BinarySearchFunc(ranked, rank, func(e rankedSpec, r int) int { return cmp.Compare(e.rank, r) })
	if taken {
		panic(fmt.Sprintf("catalogue: rank %d taken twice (by %s and %s)", rank, ranked[at].spec().Name, s().Name))
	}
	ranked = slices.Insert(ranked, at, rankedSpec{rank, s})
}

// All lists every scenario, negative controls included, in report order.
func All() []scenarios.Spec {
	out := make([]scenarios.Spec, len(ranked))
	for i, e := range ranked {
		out[i] = e.spec
	}
	return out
}

// Find returns the catalogue's specs with the given names (repeatable or
// comma separated), in catalogue order; no names means all. An unknown
// name is an error that lists the known ones.
func Find(names ...string) ([]scenarios.Spec, error) {
	all := All()
	byName := map[string]bool{}
	var known []string
	for _, s := range all {
		n := s().Name
		byName[n] = true
		known = append(known, n)
	}
	want := map[string]bool{}
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if !byName[part] {
				sort.Strings(known)
				return nil, fmt.Errorf("unknown scenario %q; known scenarios: %s", part, strings.Join(known, ", "))
			}
			want[part] = true
		}
	}
	if len(want) == 0 {
		return all, nil // no names, or only empty ones: the whole catalogue
	}
	var out []scenarios.Spec
	for _, s := range all {
		if want[s().Name] {
			out = append(out, s)
		}
	}
	return out, nil
}

// Lookup finds one scenario by name, for re-judging a saved history.
func Lookup(name string) (scenarios.Spec, error) {
	specs, err := Find(name)
	if err != nil {
		return nil, err
	}
	if len(specs) != 1 {
		return nil, fmt.Errorf("no single scenario named %q", name)
	}
	return specs[0], nil
}

// steadyDuration is the load of a good setup without faults: it judges
// steady behaviour (stickiness, sessions, TLS, replication), which 4 s of
// the default 60 requests/s (240 from 12 users) show as well as longer.
const steadyDuration = 4 * time.Second

// negative builds a negative control that breaks the lab with brk and
// expects the invariants in expect to fail. Its load runs 3 s: about 180
// requests from 12 users, each user's dozen enough to show a broken
// balancer or provider; one with a fault sets a longer one.
func negative(name, desc string, brk func(o *harness.Options), expect ...string) scenarios.Scenario {
	return scenarios.Scenario{
		Name: name, Description: desc, Lab: brk, Negative: true, ExpectFail: expect,
		Duration: 3 * time.Second,
	}
}

// providerProcessOutage is a good setup whose providers are processes of
// their own on the MariaDB pair: provider 1 suffers f under load, and
// traffic must fail over to provider 2 and keep its sessions.
func providerProcessOutage(name, desc string, f faults.Fault) scenarios.Scenario {
	return scenarios.Scenario{
		Name: name, Description: desc,
		Requires:      []string{check.NameFailover, check.NameStickiness, check.NameSessionContinuity},
		Duration:      10 * time.Second,
		NeedsDatabase: true,
		Disruptive:    true, // a process killed or frozen, and a new one started
		Lab:           func(o *harness.Options) { o.Providers = harness.ProvidersProcess },
		Faults: []scenarios.Step{{At: 2 * time.Second, For: scenarios.ProviderFaultFor, Jitter: 300 * time.Millisecond,
			Fault: f}},
	}
}
