package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func errorReport() *Report {
	r := fixtureReport()
	r.Scenarios = append(r.Scenarios, Scenario{
		Name: "replication-cut", Started: t0, Ended: t0.Add(2 * time.Second),
		Error: "lab failed to start: MariaDB 2 did not accept connections within 30s\nlast error: dial tcp 127.0.0.1:33062: connect: connection refused",
	})
	r.Incomplete = true
	r.Finish()
	return r
}

// hostileReport carries every byte value in its evidence and markup in its
// names: nothing may break the XML, the HTML or the Markdown.
func hostileReport() *Report {
	var all []byte
	for b := range 256 {
		all = append(all, byte(b))
	}
	r := &Report{RunID: `run <&"'>`, Seed: -1, Mode: "target", Repro: Repro{Command: "regify-verify run --scenario 'a|b' `x` <y>"},
		Scenarios: []Scenario{{
			Name: `a<b>&"c' ]]> | *x*`, Started: t0, Ended: t0.Add(time.Second),
			Invariants: []Invariant{
				{Name: "stickiness", Verdict: Fail, Summary: "</pre><script>alert(1)</script>", Evidence: []string{string(all), "]]>", "<!-- -->"}},
				{Name: "custom <invariant>", Verdict: Skip, Summary: "\x00"},
			},
		}, {Name: "", Invariants: []Invariant{{Name: "tls", Verdict: Pass}}}},
	}
	r.Finish()
	return r
}

func reportCases() []struct {
	name string
	r    *Report
} {
	return []struct {
		name string
		r    *Report
	}{
		{"passing run with negative control", fixtureReport()},
		{"broken run", brokenReport()},
		{"scenario that could not be judged", errorReport()},
		{"no scenarios", func() *Report { r := &Report{RunID: "empty", Seed: 1}; r.Finish(); return r }()},
		{"hostile text", hostileReport()},
	}
}

// validUTF8 is what JSON can carry: invalid bytes become U+FFFD.
func validUTF8(r *Report) *Report {
	for i := range r.Scenarios {
		for j := range r.Scenarios[i].Invariants {
			ev := r.Scenarios[i].Invariants[j].Evidence
			for k := range ev {
				ev[k] = strings.Map(func(r rune) rune { return r }, ev[k]) // each invalid byte → U+FFFD, as encoding/json does
			}
		}
	}
	return r
}

func TestWriteAllRoundTrip(t *testing.T) {
	for _, tc := range reportCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			require.NoError(t, WriteAll(dir, tc.r, Options{}))
			for _, f := range []string{HTMLFile, JSONFile, JUnitFile, SummaryFile} {
				st, err := os.Stat(filepath.Join(dir, f))
				require.NoError(t, err, f)
				assert.NotZero(t, st.Size(), f)
			}
			got, err := ReadJSON(filepath.Join(dir, JSONFile))
			require.NoError(t, err)
			assert.Equal(t, validUTF8(tc.r), got)
		})
	}
}

func TestReportJSONFields(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, fixtureReport()))
	s := buf.String()
	for _, want := range []string{`"schema": "regify-verify/report/v1"`, `"run_id": "rv-20261126-120000-7f3a"`, `"seed": 42`,
		`"verdict": "pass"`, `"name": "stickiness"`, `"expect_fail": [`, `"evidence": [`, `"bucket_ns": 1000000000`} {
		assert.Contains(t, s, want)
	}
}

func TestReadJSONRejects(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"other schema", `{"schema":"regify-verify/report/v9"}`, "schema"},
		{"not json", `<html>`, "decoding report"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "report.json")
			require.NoError(t, os.WriteFile(p, []byte(tc.body), 0o644))
			_, err := ReadJSON(p)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := ReadJSON(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorContains(t, err, "opening report")
}

func TestJUnitValidates(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed")
	}
	for _, tc := range reportCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), JUnitFile)
			var buf bytes.Buffer
			require.NoError(t, WriteJUnit(&buf, tc.r))
			require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
			out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), p).CombinedOutput()
			require.NoError(t, err, "xmllint: %s", out)
			assert.Contains(t, string(out), "validates")
		})
	}
}

func TestJUnitContent(t *testing.T) {
	tests := []struct {
		name                               string
		r                                  *Report
		tests, failures, errors, skipped   int
		failedCase, failureText, errorCase string
	}{
		{"passing", fixtureReport(), 33, 0, 0, 1, "", "", ""},
		{"broken", brokenReport(), 33, 1, 0, 1, "no-lost-writes", "msg-0412-77", ""},
		{"error", errorReport(), 34, 0, 1, 1, "", "", "scenario could not be judged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteJUnit(&buf, tc.r))
			var doc junitSuites
			require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))
			assert.Equal(t, []int{tc.tests, tc.failures, tc.errors, tc.skipped}, []int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped})
			assert.Len(t, doc.Suites, len(tc.r.Scenarios))
			for _, s := range doc.Suites {
				for _, c := range s.Cases {
					assert.Equal(t, s.Name, c.Classname)
					if c.Failure != nil {
						assert.Equal(t, tc.failedCase, c.Name)
						assert.Contains(t, c.Failure.Text, tc.failureText)
					}
					if c.Error != nil {
						assert.Equal(t, tc.errorCase, c.Name)
						assert.Contains(t, c.Error.Text, "connection refused")
					}
				}
			}
			// The caught negative control is not a failure but keeps its witness.
			assert.Contains(t, buf.String(), `\x00\x1b[31m&lt;script&gt;`)
		})
	}
}

func TestSummaryAndStepSummary(t *testing.T) {
	dir := t.TempDir()
	step := filepath.Join(dir, "step_summary.md")
	require.NoError(t, os.WriteFile(step, []byte("# earlier step\n"), 0o644))
	out := filepath.Join(dir, "out")
	require.NoError(t, WriteAll(out, brokenReport(), Options{StepSummary: step, ReportLink: "https://ci.example/artifacts/index.html"}))

	summary, err := os.ReadFile(filepath.Join(out, SummaryFile))
	require.NoError(t, err)
	s := string(summary)
	assert.Contains(t, s, "## regify-verify: ❌ FAIL")
	assert.Contains(t, s, "| provider-crash | ❌ FAIL | no-lost-writes |")
	assert.Contains(t, s, "| round-robin *(negative control)* | ✅ PASS | stickiness (expected, caught)")
	assert.Contains(t, s, "Full report: https://ci.example/artifacts/index.html")
	assert.Contains(t, s, "Rerun: `regify-verify run --seed 42")

	appended, err := os.ReadFile(step)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(appended), "# earlier step\n"))
	assert.Contains(t, string(appended), s)
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteTable(&buf, brokenReport()))
	out := buf.String()
	t.Log("\n" + out)
	for _, want := range []string{"scenario", "baseline", "provider-crash", "no-lost-writes", "round-robin (negative control)", "stickiness (expected, caught)", "verdict fail"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "\x1b[31m", "evidence escape codes must not reach the terminal")
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		want     []string
		lines    int
	}{
		{"ci prints plain lines at most every interval", false, []string{
			"[00:00] scenario baseline\n",
			"[00:05] scenario baseline · requests 50 · errors 2\n",
			"[00:10] scenario baseline · requests 100 · errors 2\n",
			"[00:12] scenario baseline · requests 120 · errors 2 done\n",
		}, 4},
		{"terminal redraws one line", true, []string{"\r\x1b[K[00:00] scenario baseline · requests 0 · errors 0", "\r\x1b[K[00:12] scenario baseline · requests 120 · errors 2\n"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			var buf bytes.Buffer
			p := NewProgress(&buf, tc.terminal, ProgressInterval(5*time.Second), ProgressClock(func() time.Time { return now }))
			p.Scenario("baseline")
			for i := range 12 {
				now = now.Add(time.Second)
				errs := 0
				if i == 3 {
					errs = 2
				}
				p.Add(10, errs)
			}
			p.Done()
			out := buf.String()
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			assert.Equal(t, tc.lines, strings.Count(out, "\n"), out)
		})
	}
}

func TestHTMLIsSelfContainedAndEscaped(t *testing.T) {
	for _, tc := range reportCases() {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteHTML(&buf, tc.r))
			h := buf.String()
			for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(http", `src=`, `href="http`, "\x00", "\x1b", "\xff"} {
				assert.NotContains(t, h, bad)
			}
			assert.True(t, utf8.ValidString(h), "HTML is not valid UTF-8")
		})
	}
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, brokenReport()))
	h := buf.String()
	for _, want := range []string{`id="verdict-matrix"`, `&lt;script&gt;alert(1)&lt;/script&gt;`, `\x00\x1b[31m`, `\xff&amp;amp;`,
		"127.0.2.3:9000", "internal D · def.test · 127.0.2.4:9000", "public IP B · def.test", "MariaDB 2", "clearing 2",
		"kill provider", "RTO", "sha256:4be1c0ffee9d2a7e51c8f0b3d6a2e91f", "regify-verify run --seed 42"} {
		assert.Contains(t, h, want)
	}
}

func TestNegativeControlOutcomes(t *testing.T) {
	neg := func(verdicts ...Verdict) Scenario {
		s := Scenario{Name: "cookie-stickiness", Negative: true, Expect: []string{"stickiness"}}
		names := []string{"stickiness", "session-continuity"}
		for i, v := range verdicts {
			s.Invariants = append(s.Invariants, Invariant{Name: names[i], Verdict: v, Summary: "s"})
		}
		return s
	}
	tests := []struct {
		name       string
		s          Scenario
		verdict    Verdict
		classes    []string
		junitFails int
		failed     string
	}{
		{"expected failure caught", neg(Fail, Pass), Pass, []string{"caught", "pass"}, 0, "stickiness (expected, caught)"},
		{"side effect does not decide", neg(Fail, Fail), Pass, []string{"caught", "collateral"}, 0, "stickiness (expected, caught)"},
		{"expected failure missed", neg(Pass, Pass), Fail, []string{"missed", "pass"}, 1, "stickiness (should have failed)"},
		{"expected invariant never ran", neg(), Fail, []string{"missed"}, 1, "stickiness (should have failed)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{RunID: "neg", Scenarios: []Scenario{tc.s}}
			r.Finish()
			s := &r.Scenarios[0]
			assert.Equal(t, tc.verdict, s.Verdict)
			assert.Equal(t, tc.verdict, r.Verdict)
			var classes []string
			for _, inv := range invariantsOf(s) {
				classes = append(classes, outcomeOf(s, &inv).Class)
			}
			assert.Equal(t, tc.classes, classes)
			assert.Equal(t, tc.failed, failedList(s))

			var buf bytes.Buffer
			require.NoError(t, WriteJUnit(&buf, r))
			var doc junitSuites
			require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))
			assert.Equal(t, tc.junitFails, doc.Failures)

			buf.Reset()
			require.NoError(t, WriteHTML(&buf, r))
			assert.Contains(t, buf.String(), `data-invariant="stickiness" data-outcome="`+tc.classes[0]+`"`)
		})
	}
}

func TestHTMLShowsUnjudgedAndIncomplete(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, errorReport()))
	h := buf.String()
	assert.Contains(t, h, `id="run-verdict" class="verdict big v-error">ERROR<`)
	assert.Contains(t, h, "INCOMPLETE")
	assert.Contains(t, h, "Could not be judged")
	assert.Contains(t, h, "within 30s\nlast error: dial tcp 127.0.0.1:33062: connect: connection refused")
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain → ünïcode\ttab", "plain → ünïcode\ttab"},
		{"nul\x00esc\x1b[0m", `nul\x00esc\x1b[0m`},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"c1\u0085del\x7f", `c1\x85del\x7f`},
		{"line\nbreak\r", `line\x0abreak\x0d`},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, clean(tc.in), "%q", tc.in)
	}
}

func TestProgressNamesEveryRunningScenario(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	p := NewProgress(&buf, false, ProgressInterval(time.Second), ProgressClock(func() time.Time { return now }))
	p.Scenario("baseline")
	p.Scenario("provider-crash")
	now = now.Add(2 * time.Second)
	p.Add(5, 0)
	p.ScenarioDone("baseline", Pass)
	now = now.Add(2 * time.Second)
	p.Add(5, 1)
	p.Done()
	out := buf.String()
	assert.Contains(t, out, "[00:02] scenarios baseline, provider-crash · requests 5 · errors 0\n")
	assert.Contains(t, out, "baseline: pass\n")
	assert.Contains(t, out, "[00:04] scenario provider-crash · requests 10 · errors 1\n")
}

// TestHTMLShowsAgents: a scenario run over agents lists each with its
// users, addresses, requests and clock, and says which one died.
func TestHTMLShowsAgents(t *testing.T) {
	r := &Report{RunID: "r1", Scenarios: []Scenario{{Name: "provider-crash", Agents: []Agent{
		{ID: "a1", Engine: "local", Users: "u001-u002", SourceIPs: []string{"127.0.10.1", "127.0.10.2"}, Requests: 40, ClockOffset: -300 * time.Nanosecond, ClockBound: 61 * time.Microsecond},
		{ID: "a2", Engine: "remote", Users: "u003-u004", SourceIPs: []string{"10.0.0.7"}, Requests: 12, ClockOffset: 2500 * time.Microsecond, ClockBound: 700 * time.Microsecond, Died: "it ended before its load did"},
	}}}}
	r.Finish()
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	h := buf.String()
	for _, want := range []string{"Load agents", "a1 (local)", "u001-u002", "127.0.10.1, 127.0.10.2", "40 requests", "0.000 ms ± 0.061 ms",
		"a2 (remote)", "2.500 ms ± 0.700 ms", "died: it ended before its load did"} {
		assert.Contains(t, h, want)
	}
	assert.NotContains(t, h, "-0.000")
}
