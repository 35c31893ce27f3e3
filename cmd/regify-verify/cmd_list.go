package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/regify-verify/regify-verify/scenarios/catalogue"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// cmdList prints the scenario catalogue and the invariants.
func cmdList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "list", "list")
	if err := parse(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tKIND\tDESCRIPTION")
	for _, spec := range catalogue.All() {
		s := spec()
		kind := "lab"
		if s.NeedsDatabase {
			kind = "lab+mariadb"
		}
		if s.Negative {
			kind += ", negative control (must fail: "
			for i, n := range s.ExpectFail {
				if i > 0 {
					kind += ", "
				}
				kind += n
			}
			kind += ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, kind, s.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	tw = tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INVARIANT\tRUNS\tNEEDS\tNEGATIVE CONTROLS\tHOLDS WHEN")
	for _, s := range check.Specs() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, runs(s), s.Needs, orDash(strings.Join(s.Negative, ", ")), s.Summary)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return listFaults(e)
}

// runs says in which runs an invariant is judged: lab, target (check) or both.
func runs(s check.Spec) string {
	switch {
	case s.Lab && s.Deployment != check.LabOnly:
		return "lab, target"
	case s.Lab:
		return "lab"
	default:
		return "target"
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listFaults prints the fault registry: each fault, its knobs with their
// defaults, and what it does; the spec form --fault takes.
func listFaults(e *env) error {
	fmt.Fprintln(e.stdout, "\nFaults (run --fault NAME[:knob=value,...], knobs at, for, jitter plus the fault's own):")
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	for _, f := range faults.Entries() {
		var knobs []string
		for _, k := range f.Knobs() {
			knobs = append(knobs, k.Name+"="+k.Default)
		}
		needs := ""
		if f.NeedsDatabase {
			needs = " (needs the MariaDB pair)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s%s\n", f.Name, strings.Join(knobs, ","), f.Summary, needs)
	}
	return tw.Flush()
}
