package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once; it is never changed after that.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"clean":     clean,
	"cleanText": cleanText,
	"upper":     strings.ToUpper,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"addDur": func(a, b time.Duration) time.Duration { return a + b },
	"join":   strings.Join,
	"ms": func(d time.Duration) string {
		v := float64(d) / float64(time.Millisecond)
		if d > -time.Microsecond && d < time.Microsecond {
			v = 0 // no "-0.000"
		}
		return fmt.Sprintf("%.3f ms", v)
	},
	"dur": func(d time.Duration) string {
		if d < 2*time.Minute {
			return fmt.Sprintf("%.1f s", d.Seconds())
		}
		return d.Round(time.Second).String()
	},
}).Parse(htmlSource))

// WriteHTML writes the self-contained HTML conformance report: no scripts,
// no outside fonts or images, charts and topology as inline SVG.
func WriteHTML(w io.Writer, r *Report) error {
	if err := htmlTemplate.Execute(w, newPage(r)); err != nil {
		return fmt.Errorf("rendering HTML report: %w", err)
	}
	return nil
}

type page struct {
	R         *Report
	Columns   []string
	Rows      []matrixRow
	Scenarios []scenarioView
	Counts    []countView
	Negatives string // how many negative controls caught their breakage, when there are any
	Findings  []finding
	Images    []kv
}

type kv struct{ K, V string }

// finding is one thing that went wrong, listed at the top of the report.
type finding struct {
	Scenario, Invariant, Anchor, Summary, Witness string
}

type countView struct {
	Class string
	N     int
	Label string
}

type matrixRow struct {
	Name, Anchor string
	Verdict      Verdict
	Negative     bool
	Cells        []cellView
}

type cellView struct {
	outcome
	Anchor string
	Title  string
}

type scenarioView struct {
	S          *Scenario
	Anchor     string
	Duration   time.Duration
	Tally      string // "12 pass, 0 fail, 1 skip"
	Invariants []invView
	Compact    bool // some invariants go in the compact table
	Measures   []measureView
	Faults     []faultView
	Schedule   []PlannedFault // shown when drawn from the seed (the nemesis)
	Topology   template.HTML
	Charts     []template.HTML
}

type invView struct {
	Inv    Invariant
	O      outcome
	Anchor string
	Card   bool // drawn as a card with its evidence; plain passes go in a compact table
}

type measureView struct{ Name, Value, Key string }

type faultView struct {
	Name, Target, Window, Effect string
}

var nonID = regexp.MustCompile(`[^a-z0-9]+`)

func anchor(parts ...string) string {
	return strings.Trim(nonID.ReplaceAllString(strings.ToLower(strings.Join(parts, "-")), "-"), "-")
}

func newPage(r *Report) page {
	p := page{R: r, Columns: columns(r)}
	counts := map[string]int{}
	negTotal, negCaught := 0, 0
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		sid := anchor(fmt.Sprintf("s%d", i+1), s.Name)
		byName := map[string]Invariant{}
		for _, inv := range invariantsOf(s) {
			if _, dup := byName[inv.Name]; !dup {
				byName[inv.Name] = inv
			}
		}
		row := matrixRow{Name: s.Name, Anchor: sid, Verdict: s.Verdict, Negative: s.Negative}
		for _, col := range p.Columns {
			inv, ok := byName[col]
			if !ok {
				row.Cells = append(row.Cells, cellView{outcome: outcome{Class: "none", Label: "—"}, Title: col + ": not checked in this scenario"})
				continue
			}
			o := outcomeOf(s, &inv)
			row.Cells = append(row.Cells, cellView{outcome: o, Anchor: anchor(sid, col), Title: col + ": " + clean(inv.Summary)})
		}
		p.Rows = append(p.Rows, row)

		sv := scenarioView{S: s, Anchor: sid, Duration: s.Ended.Sub(s.Started), Tally: tally(s)}
		if s.Error != "" {
			p.Findings = append(p.Findings, finding{Scenario: s.Name, Invariant: "could not be judged", Anchor: sid, Summary: firstLine(s.Error)})
		}
		for _, why := range s.NotJudged {
			p.Findings = append(p.Findings, finding{Scenario: s.Name, Invariant: "not judged", Anchor: sid, Summary: clean(why)})
		}
		for _, inv := range invariantsOf(s) {
			o := outcomeOf(s, &inv)
			counts[o.Class]++
			if o.Failing {
				f := finding{Scenario: s.Name, Invariant: inv.Name, Anchor: anchor(sid, inv.Name), Summary: inv.Summary}
				if o.Note != "" {
					f.Summary = o.Note
				}
				if len(inv.Evidence) > 0 {
					f.Witness = inv.Evidence[0]
				}
				p.Findings = append(p.Findings, f)
			}
			card := len(inv.Evidence) > 0 || (o.Class != "pass" && o.Class != "skip")
			sv.Compact = sv.Compact || !card
			sv.Invariants = append(sv.Invariants, invView{Inv: inv, O: o, Anchor: anchor(sid, inv.Name), Card: card})
		}
		// Failures first: the reader came for them.
		slices.SortStableFunc(sv.Invariants, func(a, b invView) int { return rank(a.O) - rank(b.O) })
		for _, k := range slices.Sorted(maps.Keys(s.Measures)) {
			sv.Measures = append(sv.Measures, measureView{Name: measureName(k), Value: measureValue(k, s.Measures[k]), Key: k})
		}
		for _, f := range s.Faults {
			sv.Faults = append(sv.Faults, faultView{Name: f.Name, Target: f.Target, Window: faultWindow(s, f), Effect: clean(f.Effect)})
		}
		if s.ScheduleDrawn {
			sv.Schedule = s.Schedule
		}
		if s.Topology != nil {
			sv.Topology = topologySVG(s.Topology, sid+"-topo")
		}
		sv.Charts = charts(s)
		p.Scenarios = append(p.Scenarios, sv)
		if s.Negative {
			negTotal++
			if s.Verdict == Pass {
				negCaught++
			}
		}
	}
	for _, c := range []struct{ class, label string }{
		{"pass", "passed"}, {"fail", "failed"}, {"missed", "negative control not caught"},
		{"error", "error"}, {"caught", "expected failures caught"}, {"collateral", "side effects in negative controls"}, {"skip", "skipped"},
	} {
		if counts[c.class] > 0 {
			p.Counts = append(p.Counts, countView{Class: c.class, N: counts[c.class], Label: c.label})
		}
	}
	if negTotal > 0 {
		p.Negatives = fmt.Sprintf("negative controls that caught their deliberate breakage: %d of %d", negCaught, negTotal)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Repro.Images)) {
		p.Images = append(p.Images, kv{k, r.Repro.Images[k]})
	}
	return p
}

func rank(o outcome) int {
	switch o.Class {
	case "fail", "missed", "error":
		return 0
	case "caught":
		return 1
	case "collateral":
		return 2
	case "pass":
		return 3
	}
	return 4
}

// measureName names the usual measures in words; others read as their key.
func measureName(k string) string {
	switch k {
	case "rto_seconds":
		return "RTO — time until the survivor served every request"
	case "rpo_writes":
		return "RPO — acknowledged writes lost"
	case "failed_requests":
		return "requests failed during the fault"
	case "max_lag_seconds":
		return "maximum replication lag"
	case "converge_seconds":
		return "time to convergence after heal"
	case "offered_rps":
		return "offered load (arrivals scheduled per second)"
	case "achieved_rps":
		return "achieved load (requests completed per second)"
	case "dropped_arrivals":
		return "arrivals dropped at the end (their user was still busy)"
	}
	k = strings.TrimSuffix(strings.TrimSuffix(k, "_seconds"), "_ms")
	return strings.ReplaceAll(k, "_", " ")
}

func measureValue(k string, v float64) string {
	switch {
	case strings.HasSuffix(k, "_seconds") && v != 0 && v < 1:
		return fmt.Sprintf("%.1f ms", v*1000)
	case strings.HasSuffix(k, "_seconds"):
		return fmt.Sprintf("%.2f s", v)
	case strings.HasSuffix(k, "_ms"):
		return fmt.Sprintf("%.1f ms", v)
	case strings.HasSuffix(k, "_rps"):
		return fmt.Sprintf("%.1f /s", v)
	}
	return fmtNum(v)
}

func faultWindow(s *Scenario, f FaultWindow) string {
	from := f.Injected.Sub(s.Started).Seconds()
	if f.Recovered.IsZero() {
		return fmt.Sprintf("from %.1f s, not recovered", from)
	}
	to := f.Recovered.Sub(s.Started).Seconds()
	return fmt.Sprintf("%.1f s – %.1f s (%.1f s)", from, to, to-from)
}

// charts draws the timeline panels of one scenario.
func charts(s *Scenario) []template.HTML {
	t := s.Timeline
	if t == nil || len(t.Points) == 0 && len(t.Lag) == 0 {
		return nil
	}
	var bands []band
	for _, f := range s.Faults {
		b := band{From: f.Injected.Sub(s.Started).Seconds(), Label: f.Name}
		if f.Recovered.IsZero() {
			b.To, b.Open = s.Ended.Sub(s.Started).Seconds(), true
		} else {
			b.To = f.Recovered.Sub(s.Started).Seconds()
		}
		bands = append(bands, b)
	}
	xmax := s.Ended.Sub(s.Started).Seconds()
	bucket := t.Bucket.Seconds()
	if bucket <= 0 {
		bucket = 1
	}
	var xs, req, errs, p50, p90, p99 []float64
	providers := map[string]bool{}
	for _, pt := range t.Points {
		x := pt.Offset.Seconds()
		xmax = max(xmax, x+bucket)
		xs = append(xs, x)
		req = append(req, float64(pt.Requests)/bucket)
		errs = append(errs, float64(pt.Errors)/bucket)
		p50 = append(p50, ms(pt.P50))
		p90 = append(p90, ms(pt.P90))
		p99 = append(p99, ms(pt.P99))
		for id := range pt.PerProvider {
			providers[id] = true
		}
	}
	mk := func(i int, name string, x, y []float64) series {
		c := palette[i%len(palette)]
		return series{Name: name, Color: c.color, Dash: c.dash, X: x, Y: y}
	}
	out := []template.HTML{
		chart{Title: "Throughput and errors", YUnit: "req/s", Y2Unit: "errors/s", XMax: xmax, Bands: bands,
			Series: []series{mk(0, "requests/s", xs, req), func() series { s := mk(1, "errors/s", xs, errs); s.Right = true; return s }()}}.svg(),
		chart{Title: "Latency percentiles", YUnit: "ms", XMax: xmax, Bands: bands,
			Series: []series{mk(2, "p50", xs, p50), mk(0, "p90", xs, p90), mk(1, "p99", xs, p99)}}.svg(),
	}
	var per []series
	for i, id := range slices.Sorted(maps.Keys(providers)) {
		var y []float64
		for _, pt := range t.Points {
			y = append(y, float64(pt.PerProvider[id])/bucket)
		}
		per = append(per, mk(i, "provider "+id, xs, y))
	}
	out = append(out, chart{Title: "Requests per provider", YUnit: "req/s", XMax: xmax, Bands: bands, Series: per}.svg())
	if len(t.Lag) > 0 {
		bySrc := map[string]*series{}
		var order []string
		for _, l := range t.Lag {
			s, ok := bySrc[l.From]
			if !ok {
				c := palette[len(order)%len(palette)]
				s = &series{Name: "from " + l.From, Color: c.color, Dash: c.dash}
				bySrc[l.From] = s
				order = append(order, l.From)
			}
			s.X = append(s.X, l.Offset.Seconds())
			s.Y = append(s.Y, ms(l.Lag))
			s.Marked = append(s.Marked, l.Failed)
		}
		var lag []series
		for _, k := range order {
			lag = append(lag, *bySrc[k])
		}
		out = append(out, chart{Title: "Replication lag (× = measurement failed)", YUnit: "ms", XMax: xmax, Bands: bands, Series: lag}.svg())
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
