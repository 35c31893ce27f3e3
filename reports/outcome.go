package reports

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// outcome is how one invariant of one scenario reads in every output. It
// folds in the negative-control rule of Scenario.judge so that the HTML, the
// JUnit file and the console never disagree with the verdicts.
type outcome struct {
	Class   string // CSS class: pass, fail, skip, error, caught, missed, collateral, none
	Label   string // text shown in the cell: the colour is never the only signal
	Sub     string // qualifier of the label for negative controls: "expected", "side effect"
	Failing bool   // counts against the scenario
	Skipped bool
	Note    string // why a negative control's invariant reads the way it does
}

func outcomeOf(s *Scenario, inv *Invariant) outcome {
	expected := s.Negative && slices.Contains(s.Expect, inv.Name)
	switch {
	case expected && inv.Verdict == Fail:
		return outcome{Class: "caught", Label: "FAIL", Sub: "expected", Note: "negative control: the broken setup was caught, as it must be"}
	case expected:
		return outcome{Class: "missed", Label: strings.ToUpper(string(inv.Verdict)), Sub: "should fail", Failing: true,
			Note: "negative control: this invariant had to fail on the deliberately broken setup and did not; the check cannot be trusted"}
	case s.Negative && inv.Verdict == Fail:
		return outcome{Class: "collateral", Label: "FAIL", Sub: "side effect",
			Note: "negative control: a consequence of the deliberate breakage; it does not decide the scenario"}
	}
	switch inv.Verdict {
	case Pass:
		return outcome{Class: "pass", Label: "PASS"}
	case Fail:
		return outcome{Class: "fail", Label: "FAIL", Failing: true}
	case Skip:
		return outcome{Class: "skip", Label: "SKIP", Skipped: true}
	case Error:
		return outcome{Class: "error", Label: "ERROR", Failing: true}
	}
	return outcome{Class: "error", Label: "UNKNOWN " + strings.ToUpper(string(inv.Verdict)), Failing: true}
}

// invariantsOf returns the scenario's invariants plus, for a negative
// control, a placeholder for each expected invariant that was never run, so
// that the missing check is visible instead of silently absent.
func invariantsOf(s *Scenario) []Invariant {
	out := slices.Clone(s.Invariants)
	if !s.Negative {
		return out
	}
	for _, name := range s.Expect {
		if !slices.ContainsFunc(s.Invariants, func(i Invariant) bool { return i.Name == name }) {
			out = append(out, Invariant{Name: name, Verdict: Skip,
				Summary: "expected to fail on this negative control, but it was not checked"})
		}
	}
	return out
}

// columns returns the invariant names used by any scenario: those named by
// r.InvariantOrder first in that order, then the others in order of first
// appearance.
func columns(r *Report) []string {
	seen := map[string]bool{}
	var extra []string
	for i := range r.Scenarios {
		for _, inv := range invariantsOf(&r.Scenarios[i]) {
			if !seen[inv.Name] && !slices.Contains(r.InvariantOrder, inv.Name) {
				extra = append(extra, inv.Name)
			}
			seen[inv.Name] = true
		}
	}
	var cols []string
	for _, name := range r.InvariantOrder {
		if seen[name] && !slices.Contains(cols, name) {
			cols = append(cols, name)
		}
	}
	return append(cols, extra...)
}

// clean makes arbitrary evidence bytes safe and visible as text: invalid
// UTF-8 and control characters (other than tab) become \xNN escapes, so a NUL
// or an ESC in a witness line neither breaks XML nor vanishes from the page.
func clean(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(hexByte(s[i]))
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) || r == '\uFFFE' || r == '\uFFFF':
			if r < 0x100 {
				b.WriteString(hexByte(byte(r)))
			} else {
				b.WriteString(`\u` + hex4(r))
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// cleanText is clean for multi-line text such as an error: line breaks stay.
func cleanText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.Join(lines, "\n")
}

func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return `\x` + string([]byte{digits[c>>4], digits[c&15]})
}

func hex4(r rune) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
}
