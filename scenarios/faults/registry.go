package faults

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Entry describes one registered fault.
type Entry struct {
	// Name is the fault's canonical name, the one --fault and YAML use.
	Name string
	// Summary says in one line what the fault does.
	Summary string
	// NeedsDatabase marks faults that act on the MariaDB pair.
	NeedsDatabase bool
	// NeedsProcesses marks faults that act on provider processes (which
	// need the pair too: it is their only shared state).
	NeedsProcesses bool
	// New returns a pointer to the fault with its default knobs.
	New func() Fault
}

// Knobs lists the entry's knobs with their default values, in field order.
func (e Entry) Knobs() []Knob {
	v := reflect.ValueOf(e.New()).Elem()
	var out []Knob
	for i := 0; i < v.NumField(); i++ {
		if tag := v.Type().Field(i).Tag.Get("fault"); tag != "" {
			out = append(out, Knob{Name: tag, Default: fmt.Sprint(v.Field(i).Interface())})
		}
	}
	return out
}

// Knob is one settable field of a fault: its default (Entry.Knobs) or
// its value (KnobValues).
type Knob struct{ Name, Default, Value string }

// registry holds every fault. It is filled by the init functions of this
// package's files and only read afterwards, so it is not mutable state.
var registry = map[string]Entry{}

// register adds a fault at init; a duplicate or a fault whose New does not
// answer to its name is a programming error.
func register(e Entry) {
	if _, dup := registry[e.Name]; dup {
		panic("faults: fault " + e.Name + " registered twice")
	}
	if got := e.New().Name(); got != e.Name {
		panic(fmt.Sprintf("faults: fault registered as %q names itself %q", e.Name, got))
	}
	registry[e.Name] = e
}

// Entries returns every registered fault, sorted by name.
func Entries() []Entry {
	out := make([]Entry, 0, len(registry))
	for _, e := range registry {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the entry of a fault name.
func Lookup(name string) (Entry, bool) {
	e, ok := registry[name]
	return e, ok
}

// Names returns the registered fault names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Build makes the named fault with its defaults changed by knobs. An
// unknown fault, an unknown knob or a value of the wrong type is an error
// that lists what is known.
func Build(name string, knobs map[string]string) (Fault, error) {
	e, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown fault %q; known faults: %s", name, strings.Join(Names(), ", "))
	}
	f := e.New()
	v := reflect.ValueOf(f).Elem()
	fields := map[string]reflect.Value{}
	var known []string
	for i := 0; i < v.NumField(); i++ {
		if tag := v.Type().Field(i).Tag.Get("fault"); tag != "" {
			fields[tag] = v.Field(i)
			known = append(known, tag)
		}
	}
	keys := make([]string, 0, len(knobs))
	for k := range knobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fv, ok := fields[k]
		if !ok {
			return nil, fmt.Errorf("fault %s has no knob %q; its knobs: %s", name, k, knobList(known))
		}
		if err := setKnob(fv, knobs[k]); err != nil {
			return nil, fmt.Errorf("fault %s knob %s=%q: %w", name, k, knobs[k], err)
		}
	}
	if v, ok := f.(validator); ok {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("fault %s: %w", name, err)
		}
	}
	return f, nil
}

// validator is a fault whose knobs can contradict each other (a link fault
// on a link it cannot act on): Build refuses it before any run.
type validator interface{ Validate() error }

// NeedsProcesses reports whether f needs a lab whose providers are
// processes: its entry says so.
func NeedsProcesses(f Fault) bool {
	e, ok := Lookup(f.Name())
	return ok && e.NeedsProcesses
}

// NeedsDatabase reports whether f acts on the MariaDB pair: its entry says
// so, or — for the link faults, whose link knob decides — the fault does.
func NeedsDatabase(f Fault) bool {
	if e, ok := Lookup(f.Name()); ok && e.NeedsDatabase {
		return true
	}
	n, ok := f.(interface{ NeedsDatabase() bool })
	return ok && n.NeedsDatabase()
}

func knobList(known []string) string {
	if len(known) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(slices.Values(known)), ", ")
}

// setKnob parses s into the field by the field's type.
func setKnob(fv reflect.Value, s string) error {
	if fv.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration (write it like 500ms or 2s)")
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not a whole number")
		}
		fv.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		fv.SetFloat(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not true or false")
		}
		fv.SetBool(b)
	default:
		return fmt.Errorf("knob of unsupported type %s", fv.Type())
	}
	return nil
}

// ParseSpec splits a fault spec "NAME[:k=v,...]" into its name and knobs.
// Keys must not repeat.
func ParseSpec(spec string) (string, map[string]string, error) {
	name, rest, _ := strings.Cut(strings.TrimSpace(spec), ":")
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, fmt.Errorf("fault spec %q names no fault; write NAME[:knob=value,...], e.g. provider-hang:provider=p1,at=2s,for=6s", spec)
	}
	knobs := map[string]string{}
	if strings.TrimSpace(rest) == "" {
		return name, knobs, nil
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return "", nil, fmt.Errorf("fault spec %q: %q is not knob=value", spec, kv)
		}
		if _, dup := knobs[k]; dup {
			return "", nil, fmt.Errorf("fault spec %q: knob %s given twice", spec, k)
		}
		knobs[k] = v
	}
	return name, knobs, nil
}
