package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Spec describes one invariant: the single place its name, its meaning and
// how it is used are written down. Each invariant's own file registers its
// Spec; reports, the CLI's list, target mode and the re-judge derive their
// lists from the registry.
type Spec struct {
	// Name is the canonical name used in every report.
	Name string
	// Summary says in one line when it holds (README's table).
	Summary string
	// Rank orders the report's columns: lower first.
	Rank int
	// Needs is what a run must provide for the invariant to be judged
	// rather than skipped.
	Needs Needs
	// Negative names the negative-control scenarios (scenario names, not
	// invariant names) that must make it fail.
	Negative []string
	// New builds the invariant with its bounds; nil when it is decided
	// during the run rather than from the history (stop-condition).
	New func(b Bounds) Invariant
	// Lab marks an invariant judged in lab runs (part of All).
	Lab bool
	// Deployment is how target mode ('regify-verify check') judges it.
	Deployment Deployment
}

// Needs is a set of what an invariant needs to be judged.
type Needs uint

// What an invariant can need.
const (
	// NeedsDatabase: the final state read after the load (the database
	// pair's rows, replication status and lag; the clearing services'
	// records).
	NeedsDatabase Needs = 1 << iota
	// NeedsWrites: a load that sends messages.
	NeedsWrites
	// NeedsBackendIdentity: responses that name the provider that answered.
	NeedsBackendIdentity
	// NeedsForwardedHeaders: providers that report the headers they saw.
	NeedsForwardedHeaders
	// NeedsFault: a fault during the run.
	NeedsFault
	// NeedsRunProbe: decided during the run, not from the history.
	NeedsRunProbe
)

var needNames = []struct {
	n    Needs
	name string
}{
	{NeedsDatabase, "database"}, {NeedsWrites, "writes"}, {NeedsBackendIdentity, "backend identity"},
	{NeedsForwardedHeaders, "forwarded headers"}, {NeedsFault, "a fault"}, {NeedsRunProbe, "a probe during the run"},
}

// Has reports whether n includes every need of x.
func (n Needs) Has(x Needs) bool { return n&x == x }

// String lists the needs, "database, writes"; "-" for none.
func (n Needs) String() string {
	var out []string
	for _, nn := range needNames {
		if n.Has(nn.n) {
			out = append(out, nn.name)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

// Deployment is how target mode judges an invariant.
type Deployment uint8

// How target mode judges an invariant.
const (
	// LabOnly: not judged in deployment runs.
	LabOnly Deployment = iota
	// FromHistory: judged from the history alone with DefaultBounds, so a
	// recorded history is judged again the same way.
	FromHistory
	// Annotated: judged from the history, then annotated with probes the
	// history does not record; a re-judge keeps the annotations.
	Annotated
	// FromSettings: judged with the deployment file's settings (a bound,
	// session.writes) or during the run; a re-judge carries it over.
	FromSettings
)

// Rejudged reports whether a recorded history of a deployment run is
// judged again with this invariant rather than carried over.
func (d Deployment) Rejudged() bool { return d == FromHistory || d == Annotated }

// registry holds every Spec by name. It is filled by the init functions of
// this package's files and read-only afterwards: no code changes it once
// the package is initialised, so reading it needs no lock.
var registry = map[string]Spec{}

// register adds s to the registry; only init functions call it. It panics
// on an empty or duplicate name: both are programming errors.
func register(s Spec) {
	if s.Name == "" {
		panic("check: register an invariant without a name")
	}
	if _, dup := registry[s.Name]; dup {
		panic(fmt.Sprintf("check: invariant %q registered twice", s.Name))
	}
	registry[s.Name] = s
}

// Specs returns every registered invariant in report order (by Rank), as a
// copy.
func Specs() []Spec {
	out := make([]Spec, 0, len(registry))
	for _, s := range registry {
		s.Negative = slices.Clone(s.Negative)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Spec) int { return cmp.Or(cmp.Compare(a.Rank, b.Rank), strings.Compare(a.Name, b.Name)) })
	return out
}

// Lookup returns the Spec registered under name.
func Lookup(name string) (Spec, bool) {
	s, ok := registry[name]
	s.Negative = slices.Clone(s.Negative)
	return s, ok
}

// Names returns every registered name in report order (by Rank).
func Names() []string {
	specs := Specs()
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// Build returns the named invariants with bounds b, in report order; every
// one that can be built from the history when names is empty. Names that are
// not registered or are decided during the run are left out.
func Build(b Bounds, names ...string) []Invariant {
	var out []Invariant
	for _, s := range Specs() {
		if s.New != nil && (len(names) == 0 || slices.Contains(names, s.Name)) {
			out = append(out, s.New(b))
		}
	}
	return out
}

// Select returns the invariants whose Spec keep accepts, built with bounds
// b, those not needing the database first, each group in report order.
// Specs without New (decided during the run) are never selected.
func Select(b Bounds, keep func(Spec) bool) []Invariant {
	var http, db []Invariant
	for _, s := range Specs() {
		switch {
		case s.New == nil || !keep(s):
		case s.Needs.Has(NeedsDatabase):
			db = append(db, s.New(b))
		default:
			http = append(http, s.New(b))
		}
	}
	return append(http, db...)
}

// HTTP returns the lab's invariants judged on requests alone.
func HTTP(b Bounds) []Invariant {
	return Select(b, func(s Spec) bool { return s.Lab && !s.Needs.Has(NeedsDatabase) })
}

// Database returns the lab's invariants judged on the final database and
// clearing state.
func Database(b Bounds) []Invariant {
	return Select(b, func(s Spec) bool { return s.Lab && s.Needs.Has(NeedsDatabase) })
}

// All returns every invariant of a lab run, HTTP first.
func All(b Bounds) []Invariant {
	return Select(b, func(s Spec) bool { return s.Lab })
}
