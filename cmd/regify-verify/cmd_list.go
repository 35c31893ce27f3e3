package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// cmdList prints the scenario catalogue and the invariants.
func cmdList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "list", "list")
	if err := parse(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tKIND\tDESCRIPTION")
	for _, spec := range scenarios.Catalogue() {
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
	return tw.Flush()
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
