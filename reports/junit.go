package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The JUnit shape understood by Jenkins, GitLab and GitHub test reporters:
// testsuites > testsuite (one per scenario) > testcase (one per invariant).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	ID         int             `xml:"id,attr"`
	Package    string          `xml:"package,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped"`
	Error     *junitProblem `xml:"error"`
	Failure   *junitProblem `xml:"failure"`
	SystemOut *junitText    `xml:"system-out"`
}

// junitText is character data written with its line breaks intact, so
// evidence reads line by line in the raw file too. Its input went through
// clean or cleanText: no control characters other than tab and newline remain.
type junitText struct {
	Text string `xml:",innerxml"`
}

func newJUnitText(s string) *junitText {
	if s == "" {
		return nil
	}
	return &junitText{Text: xmlEscaper.Replace(s)}
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",innerxml"` // escaped by newProblem
}

func newProblem(message, typ, text string) *junitProblem {
	return &junitProblem{Message: message, Type: typ, Text: xmlEscaper.Replace(text)}
}

// WriteJUnit writes r as JUnit XML: one testsuite per scenario, one testcase
// per invariant. A failing invariant carries its summary and evidence; a
// scenario that could not be judged gets a testcase with an error element.
func WriteJUnit(w io.Writer, r *Report) error {
	doc := junitSuites{Name: "regify-verify " + r.RunID}
	var total time.Duration
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		name := clean(s.Name)
		if strings.TrimSpace(name) == "" {
			name = fmt.Sprintf("scenario-%d", i+1) // the schema wants a name
		}
		suite := junitSuite{
			Name:      name,
			ID:        i,
			Package:   "regify-verify",
			Hostname:  "localhost",
			Timestamp: timestamp(s.Started),
			Time:      seconds(s.Ended.Sub(s.Started)),
			Properties: []junitProperty{
				{Name: "run_id", Value: r.RunID},
				{Name: "seed", Value: strconv.FormatInt(r.Seed, 10)},
				{Name: "verdict", Value: string(s.Verdict)},
				{Name: "negative_control", Value: strconv.FormatBool(s.Negative)},
				{Name: "command", Value: r.Repro.Command},
			},
		}
		if d := s.Ended.Sub(s.Started); d > 0 {
			total += d
		}
		if s.Error != "" {
			suite.Cases = append(suite.Cases, junitCase{
				Name: "scenario could not be judged", Classname: name, Time: "0",
				Error: newProblem(clean(firstLine(s.Error)), "error", cleanText(s.Error)),
			})
			suite.Errors++
		}
		if len(s.NotJudged) > 0 {
			suite.Cases = append(suite.Cases, junitCase{
				Name: "scenario incomplete: not judged", Classname: name, Time: "0",
				Error: newProblem(clean(firstLine(s.NotJudged[0])), string(Incomplete), cleanText(strings.Join(s.NotJudged, "\n"))),
			})
			suite.Errors++
		}
		for _, inv := range invariantsOf(s) {
			o := outcomeOf(s, &inv)
			c := junitCase{Name: clean(inv.Name), Classname: name, Time: "0"}
			switch {
			case o.Failing:
				c.Failure = newProblem(clean(failureMessage(inv, o)), string(inv.Verdict), evidenceText(inv, o))
				suite.Failures++
			case o.Skipped:
				c.Skipped = &junitSkipped{Message: clean(inv.Summary)}
				suite.Skipped++
			default:
				c.SystemOut = newJUnitText(evidenceText(inv, o))
			}
			suite.Cases = append(suite.Cases, c)
		}
		suite.Tests = len(suite.Cases)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Skipped += suite.Skipped
		doc.Suites = append(doc.Suites, suite)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing JUnit header: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("encoding JUnit XML: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	return nil
}

func failureMessage(inv Invariant, o outcome) string {
	if o.Note != "" {
		return inv.Name + ": " + o.Note
	}
	return firstLine(inv.Summary)
}

func evidenceText(inv Invariant, o outcome) string {
	var b strings.Builder
	b.WriteString(clean(inv.Summary))
	if o.Note != "" {
		b.WriteString("\n(" + o.Note + ")")
	}
	if len(inv.Evidence) > 0 {
		b.WriteString("\nevidence:")
		for _, e := range inv.Evidence {
			b.WriteString("\n  " + clean(e))
		}
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// timestamp is the JUnit schema's xs:dateTime without a zone, in UTC.
func timestamp(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
