package scenarios

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// NemesisName is the nemesis scenario's name.
const NemesisName = "nemesis"

// NemesisOptions shape the nemesis: which faults it may draw, how many, how
// long each may hold, how long the load runs, and on which lab.
type NemesisOptions struct {
	// Faults are the fault names to draw from; empty means DefaultNemesisFaults.
	Faults []string
	// Intensity is how many faults a minute of load gets (at least one).
	Intensity float64
	// MaxHold bounds how long one fault stays injected.
	MaxHold time.Duration
	// Duration is the load's length; the schedule scales with it.
	Duration time.Duration
	// Lab, when set, changes the lab (a broken setup borrowed from a
	// negative control: run --nemesis lab=neg-no-health-checks).
	Lab func(o *harness.Options)
	// LabFrom names the scenario Lab was borrowed from, for the description.
	LabFrom string
	// NeedsDatabase is set when the borrowed lab needs the MariaDB pair.
	NeedsDatabase bool
}

// DefaultNemesisFaults are the faults the nemesis draws when not told:
// each kind of provider outage, the database and replication faults, and a
// clearing cut.
var DefaultNemesisFaults = []string{
	"provider-crash", "provider-hang", "provider-slow", "link-cut", "link-reset",
	"db-pause", "replication-cut", "replication-delay", "clearing-cut",
}

// Nemesis defaults.
const (
	DefaultNemesisIntensity = 6.0
	DefaultNemesisMaxHold   = 8 * time.Second
	DefaultNemesisDuration  = 40 * time.Second
	// nemesisMaxDuration bounds a nemesis run.
	nemesisMaxDuration = 30 * time.Minute
	// nemesisMaxFaults bounds the schedule however intense.
	nemesisMaxFaults = 200
)

// nemesisTargets are the knob choices the draw picks from, per fault: the
// provider, side or clearing service it hits. A fault not listed keeps its
// defaults.
var nemesisTargets = map[string][]map[string]string{
	"provider-crash": {{"provider": "p1"}, {"provider": "p2"}},
	"provider-hang":  {{"provider": "p1"}, {"provider": "p2"}},
	// Slow is not down, and excuses nothing: the latency is the catalogue's
	// provider-slow (80 ms), well below the lab's health-check timeout
	// (500 ms) — or the balancer would rightly take the provider out — and
	// low enough that a user's arrivals (about 5 a second) do not queue up
	// behind its own slow answers (at 250 ms they do, and responsiveness
	// rightly fails).
	"provider-slow":     {{"provider": "p1", "latency": "80ms"}, {"provider": "p2", "latency": "80ms"}},
	"link-cut":          {{"provider": "p1"}, {"provider": "p2"}},
	"link-reset":        {{"provider": "p1"}, {"provider": "p2"}},
	"link-blackhole":    {{"provider": "p1"}, {"provider": "p2"}},
	"provider-db-cut":   {{"provider": "p1"}, {"provider": "p2"}},
	"db-pause":          {{"side": "a"}, {"side": "b"}},
	"db-kill":           {{"side": "a"}, {"side": "b"}},
	"db-restart":        {{"side": "a"}, {"side": "b"}},
	"replication-stop":  {{"side": "a"}, {"side": "b"}},
	"replication-delay": {{"side": "a", "delay": "2s"}, {"side": "b", "delay": "2s"}},
	"clearing-cut":      {{"clearing": "0"}, {"clearing": "1"}},
}

// ParseNemesis reads the --nemesis flag: comma-separated key=value pairs
// faults=a+b+c, intensity=N (faults a minute), max_hold=D, lab=SCENARIO.
// lab is returned for the caller to resolve (the engine does not know the
// catalogue).
func ParseNemesis(spec string) (NemesisOptions, string, error) {
	var o NemesisOptions
	lab := ""
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return o, "", fmt.Errorf("--nemesis %q: %q is not key=value (keys: faults, intensity, max_hold, lab)", spec, kv)
		}
		switch k {
		case "faults":
			o.Faults = strings.Split(v, "+")
		case "intensity":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 60 {
				return o, "", fmt.Errorf("--nemesis intensity=%q: want faults a minute, above 0 and at most 60", v)
			}
			o.Intensity = f
		case "max_hold":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return o, "", fmt.Errorf("--nemesis max_hold=%q: want a duration such as 8s", v)
			}
			o.MaxHold = d
		case "lab":
			lab = v
		default:
			return o, "", fmt.Errorf("--nemesis: unknown key %q (keys: faults, intensity, max_hold, lab)", k)
		}
	}
	return o, lab, nil
}

// withDefaults fills zero fields and checks the rest.
func (o NemesisOptions) withDefaults() (NemesisOptions, error) {
	if len(o.Faults) == 0 {
		o.Faults = DefaultNemesisFaults
	}
	if o.Intensity <= 0 {
		o.Intensity = DefaultNemesisIntensity
	}
	if o.MaxHold <= 0 {
		o.MaxHold = DefaultNemesisMaxHold
	}
	if o.Duration <= 0 {
		o.Duration = DefaultNemesisDuration
	}
	if o.Duration > nemesisMaxDuration {
		return o, fmt.Errorf("nemesis duration %s: at most %s", o.Duration, nemesisMaxDuration)
	}
	for _, name := range o.Faults {
		e, ok := faults.Lookup(name)
		if !ok {
			return o, fmt.Errorf("nemesis: unknown fault %q (known: %s)", name, strings.Join(faults.Names(), ", "))
		}
		if e.Name == "hook" || e.Name == "master-down" || e.Name == "db-silent-write" {
			return o, fmt.Errorf("nemesis: fault %q cannot be drawn (it is an operator hook, a drill's step or a divergence that never heals)", name)
		}
	}
	if o.MaxHold < ProviderFaultFor {
		return o, fmt.Errorf("nemesis max_hold %s: at least %s, so that a provider fault outlasts the client timeout and the health bound", o.MaxHold, ProviderFaultFor)
	}
	return o, nil
}

// Nemesis is the composed, random scenario: a schedule of faults drawn from
// the run's seed alone over the load (several kinds; a provider outage may
// overlap a database fault, never another provider outage; each healed
// well before the end), judged by every invariant.
func Nemesis(opts NemesisOptions) (Spec, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	// Whether the pair is needed depends on the knobs the draw picks (a
	// link fault's link=database); any fault that might need it brings it.
	needsDB := false
	for _, name := range o.Faults {
		if e, _ := faults.Lookup(name); e.NeedsDatabase {
			needsDB = true
		}
		for _, knobs := range nemesisTargets[name] {
			if f, err := faults.Build(name, knobs); err == nil && faults.NeedsDatabase(f) {
				needsDB = true
			}
		}
	}
	desc := fmt.Sprintf("The nemesis: %.3g faults a minute drawn from the seed among %s, each held at most %s, a provider outage never overlapping another; every invariant judged.",
		o.Intensity, strings.Join(o.Faults, ", "), o.MaxHold)
	if o.LabFrom != "" {
		desc += " Lab of " + o.LabFrom + "."
	}
	return func() Scenario {
		return Scenario{
			Name: NemesisName, Description: desc, Duration: o.Duration, Lab: o.Lab,
			NeedsDatabase: needsDB || o.NeedsDatabase,
			// Its faults overlap at random: the most timing-sensitive
			// scenario there is, and its kills and freezes disturb others.
			Disruptive: true,
			Draw:       func(seed int64, dur time.Duration) ([]Step, error) { return drawNemesis(seed, dur, o) },
			Requires:   []string{check.NameStickiness, check.NameSessionContinuity},
		}
	}, nil
}

// lane is one kind of fault that must not overlap itself: provider
// outages, database faults, the rest.
type lane int

const (
	laneProvider lane = iota
	laneDatabase
	laneOther
)

// lanesOf are the lanes a fault takes: provider outages, balancer
// restarts and every other fault aimed at one provider share a lane (a
// slow provider that is also cut would show neither effect; a restart
// during a provider outage would blur the fail-over), database faults have
// theirs. A fault of a database server itself (kill, pause, restart) takes
// both: it is the outage of the provider on it, and a replication fault
// healing meanwhile would have to restart the replica threads of a frozen
// or dead master (seen: a heal of replication-cut waited 10 s on a paused
// master and failed).
func lanesOf(f faults.Fault) []lane {
	k := f.Kind()
	aimed := false
	for _, kn := range faults.KnobValues(f) {
		aimed = aimed || kn.Name == "provider"
	}
	switch {
	case k.Provider && k.Database:
		return []lane{laneProvider, laneDatabase}
	case k.Provider || k.Balancer || aimed:
		return []lane{laneProvider}
	case k.Database:
		return []lane{laneDatabase}
	}
	return []lane{laneOther}
}

// drawNemesis draws the schedule: the same seed and duration give the same
// steps. Faults start after the first 15 % of the load (the users have
// logged in) and are healed by 75 % of it (the rest shows recovery and
// lets the masters converge); each lane places its faults one after the
// other with a random gap.
func drawNemesis(seed int64, dur time.Duration, o NemesisOptions) ([]Step, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6e656d6573697321)) // "nemesis!"
	from, until := dur*15/100, dur*75/100
	n := int(math.Round(o.Intensity * dur.Minutes()))
	n = min(max(n, 1), nemesisMaxFaults)
	cursor := map[lane]time.Duration{laneProvider: from, laneDatabase: from, laneOther: from}
	holder := "" // the provider holding the clients; "" while they are on both
	var out []Step
	for i := 0; i < n; i++ {
		name := o.Faults[rng.IntN(len(o.Faults))]
		knobs := map[string]string{}
		if ts := nemesisTargets[name]; len(ts) > 0 {
			for k, v := range ts[rng.IntN(len(ts))] {
				knobs[k] = v
			}
		}
		aim(name, knobs, holder)
		f, err := faults.Build(name, knobs)
		if err != nil {
			return nil, fmt.Errorf("nemesis: build %s: %w", name, err)
		}
		ls := lanesOf(f)
		minHold := 2 * time.Second
		if f.Kind().Provider {
			minHold = ProviderFaultFor
		}
		hold := minHold + time.Duration(rng.Int64N(int64(o.MaxHold-minHold)+1))
		hold = hold.Round(100 * time.Millisecond)
		gap := (500*time.Millisecond + time.Duration(rng.Int64N(int64(3*time.Second)))).Round(100 * time.Millisecond)
		at := gap
		for _, l := range ls {
			at = max(at, cursor[l]+gap)
		}
		if at+hold > until {
			continue // this lane is full; another draw may fit another lane
		}
		for _, l := range ls {
			cursor[l] = at + hold
		}
		if k := f.Kind(); k.Provider && k.Affects != "" {
			// The built-in balancer keeps a moved client where it is: after
			// this outage the clients are on the other provider.
			holder = otherProvider(k.Affects)
		}
		out = append(out, Step{At: at, For: hold, Fault: f})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("nemesis: no fault fits a load of %s (the faults are healed by 75 %% of it and a provider fault holds at least %s): give a longer --duration", dur, ProviderFaultFor)
	}
	slices.SortStableFunc(out, func(a, b Step) int { return int(a.At - b.At) })
	return out, nil
}

// aim points a fault aimed at one provider (or at its master) at the
// provider that holds the clients, once an earlier outage has moved them
// all to one: a fault on the provider nobody is on cannot bite, and the
// run would be incomplete (seen: a 2-minute nemesis cut p1's wires after
// every client had moved to p2). The schedule stays a function of the
// seed: the draw follows where its own outages leave the clients.
func aim(name string, knobs map[string]string, holder string) {
	if holder == "" {
		return
	}
	e, ok := faults.Lookup(name)
	if !ok {
		return
	}
	outage := e.New().Kind().Provider
	for _, k := range e.Knobs() {
		switch {
		case k.Name == "provider":
			knobs["provider"] = holder
		case k.Name == "side" && outage:
			knobs["side"] = sideOfProvider(holder)
		}
	}
}

// otherProvider and sideOfProvider follow the lab's plan: two providers,
// p1 on master a, p2 on master b.
func otherProvider(p string) string {
	if p == "p1" {
		return "p2"
	}
	return "p1"
}

func sideOfProvider(p string) string {
	if p == "p1" {
		return "a"
	}
	return "b"
}

// SpecOf writes a planned fault as a --fault spec that reproduces it:
// its knobs, at and for.
func SpecOf(p Planned) string {
	knobs := faults.KnobValues(p.Fault)
	parts := make([]string, 0, len(knobs)+2)
	for _, k := range knobs {
		parts = append(parts, k.Name+"="+k.Value)
	}
	parts = append(parts, "at="+p.At.Round(time.Millisecond).String(), "for="+p.For.Round(time.Millisecond).String())
	return p.Fault.Name() + ":" + strings.Join(parts, ",")
}
