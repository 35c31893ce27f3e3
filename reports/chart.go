package reports

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// A chart is a small line chart drawn as inline SVG: no scripts, no fonts
// from outside, readable in grayscale because every series also differs by
// dash pattern and fault windows are hatched and labelled, not only tinted.
type chart struct {
	Title  string
	YUnit  string
	Y2Unit string  // unit of the right-hand axis, for series with Right set
	XMax   float64 // seconds
	Series []series
	Bands  []band
}

type series struct {
	Name   string
	Color  string
	Dash   string // SVG stroke-dasharray, "" for solid
	X, Y   []float64
	Marked []bool // points drawn with a cross (a failed measurement)
	Right  bool   // scaled on the right-hand axis, so small counts stay visible
}

type band struct {
	From, To float64
	Label    string
	Open     bool // never recovered
}

// palette pairs a colour with a dash pattern; the i-th series takes the i-th.
var palette = [...]struct{ color, dash string }{
	{"#1f5fa8", ""}, {"#c4302b", "6 3"}, {"#2e7d32", "2 2"}, {"#7b3fa0", "8 3 2 3"},
	{"#b26a00", "1 3"}, {"#00796b", "10 4"},
}

const (
	chartW, chartH                 = 560, 220
	padL, padR, padT, padB         = 52, 40, 42, 34
	plotW                  float64 = chartW - padL - padR
	plotH                  float64 = chartH - padT - padB
)

func (c chart) svg() template.HTML {
	var b strings.Builder
	ymax, ymax2 := 0.0, 0.0
	right := false
	for _, s := range c.Series {
		for _, y := range s.Y {
			if s.Right {
				ymax2 = math.Max(ymax2, y)
			} else {
				ymax = math.Max(ymax, y)
			}
		}
		right = right || s.Right
	}
	ystep, ytop := niceScale(ymax)
	// The right axis shares the left one's grid lines: same number of steps.
	nsteps := math.Round(ytop / ystep)
	ystep2 := niceStep(ymax2 / nsteps)
	ytop2 := ystep2 * nsteps
	xmax := c.XMax
	if xmax <= 0 {
		xmax = 1
	}
	xstep, _ := niceScale(xmax)
	px := func(x float64) float64 { return padL + x/xmax*plotW }
	py := func(y float64) float64 { return padT + plotH - y/ytop*plotH }
	py2 := func(y float64) float64 { return padT + plotH - y/ytop2*plotH }

	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH, esc(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	fmt.Fprintf(&b, `<text class="ctitle" x="%d" y="14">%s</text>`, padL, esc(c.Title))
	// Fault windows under everything else. Labels of windows that start
	// close together go on rows below each other instead of over each
	// other (the nemesis overlaps faults).
	var rowEnds []float64
	for _, bd := range c.Bands {
		x0, x1 := px(clamp(bd.From, 0, xmax)), px(clamp(bd.To, 0, xmax))
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		fmt.Fprintf(&b, `<rect class="fault" x="%.1f" y="%d" width="%.1f" height="%.0f"/>`, x0, padT, x1-x0, plotH)
		label := bd.Label
		if bd.Open {
			label += " (not recovered)"
		}
		// The label sits above the plot, clear of the lines, tied to the window by a tick.
		row := labelRow(&rowEnds, x0, x0+3+labelWidth*float64(len([]rune(label))))
		fmt.Fprintf(&b, `<line class="fault" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, x0, x0, padT-12, padT+row*labelStep)
		fmt.Fprintf(&b, `<text class="flabel" x="%.1f" y="%d">%s</text>`, x0+3, padT-3+row*labelStep, esc(label))
	}
	// Grid and axes.
	for y := 0.0; y <= ytop+ystep/2; y += ystep {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%.0f" y1="%.1f" y2="%.1f"/>`, padL, padL+plotW, py(y), py(y))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-5, py(y)+3.5, fmtNum(y))
	}
	for x := 0.0; x <= xmax+xstep/1000; x += xstep {
		fmt.Fprintf(&b, `<line class="xt" x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f"/>`, px(x), px(x), padT+plotH, padT+plotH+4)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.0f" text-anchor="middle">%ss</text>`, px(x), padT+plotH+15, fmtNum(x))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%d" y2="%.0f"/>`, padL, padL, padT, padT+plotH)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%.0f" y1="%.0f" y2="%.0f"/>`, padL, padL+plotW, padT+plotH, padT+plotH)
	fmt.Fprintf(&b, `<text class="unit" x="6" y="%d">%s</text>`, padT-6, esc(c.YUnit))
	if right {
		for i := 0.0; i <= nsteps; i++ {
			fmt.Fprintf(&b, `<text class="tick r" x="%.0f" y="%.1f">%s</text>`, padL+plotW+5, py2(i*ystep2)+3.5, fmtNum(i*ystep2))
		}
		fmt.Fprintf(&b, `<line class="axis r" x1="%.0f" x2="%.0f" y1="%d" y2="%.0f"/>`, padL+plotW, padL+plotW, padT, padT+plotH)
		fmt.Fprintf(&b, `<text class="unit r" x="%d" y="%d" text-anchor="end">%s</text>`, chartW-2, padT-6, esc(c.Y2Unit))
	}
	fmt.Fprintf(&b, `<text class="unit" x="%.0f" y="%d" text-anchor="end">time since scenario start</text>`, padL+plotW, chartH-4)
	// Series.
	if len(c.Series) == 0 || ymax == 0 && allEmpty(c.Series) {
		fmt.Fprintf(&b, `<text class="nodata" x="%.0f" y="%.0f" text-anchor="middle">no data</text>`, padL+plotW/2, padT+plotH/2)
	}
	lx := padL + plotW
	for i := len(c.Series) - 1; i >= 0; i-- {
		s := c.Series[i]
		y := py
		if s.Right {
			y = py2
		}
		dash := ""
		if s.Dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.Dash)
		}
		// A failed measurement has no value: the line breaks there.
		var pts []string
		flush := func() {
			if len(pts) == 1 {
				pts = append(pts, pts[0])
			}
			if len(pts) > 0 {
				fmt.Fprintf(&b, `<polyline class="series" points="%s" stroke="%s"%s/>`, strings.Join(pts, " "), s.Color, dash)
			}
			pts = pts[:0]
		}
		for j := range s.X {
			if j >= len(s.Y) {
				break
			}
			if j < len(s.Marked) && s.Marked[j] {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[j]), y(s.Y[j])))
		}
		flush()
		for j, m := range s.Marked {
			if m && j < len(s.X) && j < len(s.Y) {
				mx, my := px(s.X[j]), y(s.Y[j])
				fmt.Fprintf(&b, `<path class="mark" d="M%.1f %.1fl6 6m0 -6l-6 6" stroke="%s"/>`, mx-3, my-3, s.Color)
			}
		}
		// Legend, right-aligned on the title line.
		name := s.Name
		if s.Right {
			name += " (right axis)"
		}
		w := 24 + 6.2*float64(len([]rune(name)))
		lx -= w
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="11" y2="11" stroke="%s" stroke-width="2.5"%s/>`, lx, lx+16, s.Color, dash)
		fmt.Fprintf(&b, `<text class="legend" x="%.1f" y="14">%s</text>`, lx+19, esc(name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above went through esc
}

func allEmpty(ss []series) bool {
	for _, s := range ss {
		if len(s.Y) > 0 {
			return false
		}
	}
	return true
}

// niceScale returns a tick step of 1, 2 or 5 × 10^n and the top of the axis.
func niceScale(max float64) (step, top float64) {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		return 1, 4
	}
	step = niceStep(max / 4)
	return step, math.Ceil(max/step) * step
}

// niceStep is the smallest 1, 2 or 5 × 10^n not below raw (1 for nothing).
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		return mag
	case f <= 2:
		return 2 * mag
	case f <= 5:
		return 5 * mag
	}
	return 10 * mag
}

func fmtNum(v float64) string {
	if math.Abs(v-math.Round(v)) < 1e-9 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func esc(s string) string { return template.HTMLEscapeString(clean(s)) }

// Fault labels: an estimate of a character's width, the distance between
// label rows and how many rows there are.
const (
	labelWidth  = 5.5
	labelStep   = 11
	labelRowMax = 4
)

// labelRow is the first row whose last label ends before x0 (the last row
// when none does), and marks it taken up to x1.
func labelRow(ends *[]float64, x0, x1 float64) int {
	for i, end := range *ends {
		if end < x0 {
			(*ends)[i] = x1
			return i
		}
	}
	if len(*ends) < labelRowMax {
		*ends = append(*ends, x1)
		return len(*ends) - 1
	}
	(*ends)[labelRowMax-1] = x1
	return labelRowMax - 1
}
