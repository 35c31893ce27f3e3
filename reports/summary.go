package reports

import (
	"fmt"
	"io"
	"strings"
)

// WriteSummary writes a short Markdown summary: the verdict, one row per
// scenario with its failed invariants, and where the full report is
// (link, a path or URL; empty leaves the line out).
func WriteSummary(w io.Writer, r *Report, link string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## regify-verify: %s\n\n", verdictBadge(r.Verdict))
	fmt.Fprintf(&b, "Run `%s` · seed `%d` · mode %s · %s", mdCode(r.RunID), r.Seed, mdCell(orDash(r.Mode)), scenarioCounts(r))
	if !r.Started.IsZero() {
		fmt.Fprintf(&b, " · %s", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString("\n")
	if r.Incomplete {
		b.WriteString("\n> **Incomplete:** the run was interrupted before every scenario ran.\n")
	}
	b.WriteString("\n| scenario | verdict | failed invariants |\n|---|---|---|\n")
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		name := mdCell(s.Name)
		if s.Negative {
			name += " *(negative control)*"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, verdictBadge(s.Verdict), mdCell(failedList(s)))
	}
	if link != "" {
		fmt.Fprintf(&b, "\nFull report: %s (with report.json and junit.xml beside it)\n", mdCell(link))
	}
	if r.Repro.Command != "" {
		fmt.Fprintf(&b, "\nRerun: `%s`\n", mdCode(r.Repro.Command))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing Markdown summary: %w", err)
	}
	return nil
}

// failedList names what went wrong in a scenario, for tables.
func failedList(s *Scenario) string {
	var parts []string
	if s.Error != "" {
		parts = append(parts, "could not be judged: "+firstLine(s.Error))
	}
	for _, why := range s.NotJudged {
		parts = append(parts, "not judged: "+firstLine(why))
	}
	for _, inv := range invariantsOf(s) {
		o := outcomeOf(s, &inv)
		switch {
		case o.Class == "missed":
			parts = append(parts, inv.Name+" (should have failed)")
		case o.Failing:
			parts = append(parts, inv.Name)
		case o.Class == "caught":
			parts = append(parts, inv.Name+" (expected, caught)")
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

func scenarioCounts(r *Report) string {
	n := map[Verdict]int{}
	for _, s := range r.Scenarios {
		n[s.Verdict]++
	}
	parts := []string{fmt.Sprintf("%d scenarios", len(r.Scenarios))}
	for _, v := range []Verdict{Pass, Fail, Error, Incomplete, Skip} {
		if n[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[v], v))
		}
	}
	return strings.Join(parts, ", ")
}

func verdictBadge(v Verdict) string {
	switch v {
	case Pass:
		return "✅ PASS"
	case Fail:
		return "❌ FAIL"
	case Skip:
		return "⏭️ SKIP"
	case Error:
		return "⚠️ ERROR"
	case Incomplete:
		return "⚠️ INCOMPLETE"
	}
	return strings.ToUpper(string(v))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// mdCell keeps arbitrary text inside one Markdown table cell.
func mdCell(s string) string {
	s = clean(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", " "), "\n", " "))
	r := strings.NewReplacer(`|`, `\|`, `<`, `&lt;`, `>`, `&gt;`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

// mdCode keeps text inside a single-backtick code span.
func mdCode(s string) string {
	return strings.ReplaceAll(clean(strings.ReplaceAll(s, "\n", " ")), "`", "'")
}
