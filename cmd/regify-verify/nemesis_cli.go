package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/catalogue"
)

// borrowLab is the catalogue scenario whose lab (a broken setup) another
// scenario runs on.
func borrowLab(name string) (*scenarios.Scenario, error) {
	specs, err := catalogue.Find(name)
	if err != nil {
		return nil, err
	}
	sc := specs[0]()
	return &sc, nil
}

// replaceNemesis puts nem where the catalogue's nemesis is in specs, or
// alone (only) or at the end.
func replaceNemesis(specs []scenarios.Spec, nem scenarios.Spec, only bool) []scenarios.Spec {
	if only {
		return []scenarios.Spec{nem}
	}
	for i, s := range specs {
		if s().Name == scenarios.NemesisName {
			out := append([]scenarios.Spec(nil), specs...)
			out[i] = nem
			return out
		}
	}
	return append(specs, nem)
}

// printSchedules is run --dry-run: per scenario its lab, load and the fault
// schedule the seed gives, each fault as the --fault spec that injects it.
func printSchedules(e *env, specs []scenarios.Spec, seed int64, duration time.Duration) error {
	fmt.Fprintf(e.stdout, "regify-verify run --seed %d (dry run: nothing is started)\n", seed)
	for _, spec := range specs {
		sc := spec()
		load := sc.Duration
		if duration > 0 {
			load = duration
		}
		if load <= 0 {
			load = scenarios.DefaultDuration
		}
		kind := "lab"
		if sc.NeedsDatabase {
			kind = "lab+mariadb"
		}
		fmt.Fprintf(e.stdout, "\n%s (%s, load %s)\n", sc.Name, kind, load)
		steps, err := sc.Steps(seed, load)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", sc.Name, err)}
		}
		planned, err := scenarios.Plan(steps, seed)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", sc.Name, err)}
		}
		if len(planned) == 0 {
			fmt.Fprintln(e.stdout, "  no faults")
		}
		for _, p := range planned {
			fmt.Fprintf(e.stdout, "  %7s – %7s  %-18s %s\n", p.At.Round(100*time.Millisecond), (p.At + p.For).Round(100*time.Millisecond),
				p.Fault.Name()+" "+p.Fault.Target(), strings.TrimPrefix(scenarios.SpecOf(p), p.Fault.Name()+":"))
		}
	}
	return nil
}
