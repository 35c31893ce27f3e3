package reports

import (
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteTable prints the verdicts as a console table: one row per scenario
// with its verdict, its invariant counts and the invariants that failed.
func WriteTable(w io.Writer, r *Report) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithRowMaxWidth(60),
	)
	t.Header("scenario", "verdict", "invariants", "failed")
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		name := clean(s.Name)
		if s.Negative {
			name += " (negative control)"
		}
		if err := t.Append(name, string(s.Verdict), tally(s), clean(failedList(s))); err != nil {
			return fmt.Errorf("building verdict table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("printing verdict table: %w", err)
	}
	verdict := string(r.Verdict)
	if r.Incomplete {
		verdict += " (incomplete: interrupted)"
	}
	if _, err := fmt.Fprintf(w, "run %s · seed %d · verdict %s\n", r.RunID, r.Seed, verdict); err != nil {
		return fmt.Errorf("printing verdict: %w", err)
	}
	return nil
}

// tally counts a scenario's invariants by how they read.
func tally(s *Scenario) string {
	n := map[string]int{}
	for _, inv := range invariantsOf(s) {
		n[outcomeOf(s, &inv).Class]++
	}
	out := fmt.Sprintf("%d pass, %d fail, %d skip", n["pass"], n["fail"]+n["missed"]+n["error"], n["skip"])
	if n["caught"] > 0 {
		out += fmt.Sprintf(", %d caught", n["caught"])
	}
	if n["collateral"] > 0 {
		out += fmt.Sprintf(", %d side effect", n["collateral"])
	}
	return out
}
