package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/catalogue"
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
	fmt.Fprintln(e.stdout, "\nInvariants:")
	for _, n := range reports.CanonicalInvariants() {
		fmt.Fprintf(e.stdout, "  %s\n", n)
	}
	return nil
}
