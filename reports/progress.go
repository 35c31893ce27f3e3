package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Progress shows a run while it happens. On a terminal it redraws one line
// with live counters; elsewhere (CI logs) it prints a plain line at most every
// Interval, and at each scenario change, so logs stay short.
// It is safe for concurrent use.
type Progress struct {
	w        io.Writer
	terminal bool
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	start    time.Time
	last     time.Time
	running  []string // scenarios started and not done, in start order
	requests int64
	errors   int64
	drawn    bool // a terminal line is on screen
}

// ProgressOption configures a Progress.
type ProgressOption func(*Progress)

// ProgressInterval sets how often a line is printed in CI (default 5 s) or
// redrawn on a terminal (default 200 ms).
func ProgressInterval(d time.Duration) ProgressOption { return func(p *Progress) { p.interval = d } }

// ProgressClock replaces time.Now, for tests.
func ProgressClock(now func() time.Time) ProgressOption { return func(p *Progress) { p.now = now } }

// NewProgress reports to w; terminal says whether w is an interactive terminal.
func NewProgress(w io.Writer, terminal bool, opts ...ProgressOption) *Progress {
	p := &Progress{w: w, terminal: terminal, now: time.Now, interval: 5 * time.Second}
	if terminal {
		p.interval = 200 * time.Millisecond
	}
	for _, o := range opts {
		o(p)
	}
	p.start = p.now()
	return p
}

// Scenario marks the start of a scenario; it is always shown. Several may
// run at once: the live line names them all.
func (p *Progress) Scenario(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running = append(p.running, name)
	if p.terminal {
		p.draw()
		return
	}
	fmt.Fprintf(p.w, "%s scenario %s\n", p.elapsed(), name)
	p.last = p.now()
}

// Add counts finished requests and errors among them.
func (p *Progress) Add(requests, errors int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests += int64(requests)
	p.errors += int64(errors)
	if p.now().Sub(p.last) < p.interval {
		return
	}
	if p.terminal {
		p.draw()
	} else {
		fmt.Fprintln(p.w, p.line())
	}
	p.last = p.now()
}

// ScenarioDone marks the end of a scenario and prints its verdict.
func (p *Progress) ScenarioDone(name string, verdict Verdict) {
	p.mu.Lock()
	if i := slices.Index(p.running, name); i >= 0 {
		p.running = slices.Delete(p.running, i, i+1)
	}
	p.mu.Unlock()
	p.Logf("%s: %s", name, verdict)
}

// Logf prints a message without garbling the live line.
func (p *Progress) Logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
	if p.terminal && p.drawn {
		p.draw()
	}
}

// Done prints the final counters and ends the live line.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		p.draw()
		fmt.Fprintln(p.w)
		p.drawn = false
		return
	}
	fmt.Fprintln(p.w, p.line()+" done")
}

func (p *Progress) draw() {
	fmt.Fprint(p.w, "\r\033[K"+p.line())
	p.drawn = true
	p.last = p.now()
}

func (p *Progress) line() string {
	sc := "scenario -"
	switch len(p.running) {
	case 0:
	case 1:
		sc = "scenario " + p.running[0]
	default:
		sc = "scenarios " + strings.Join(p.running, ", ")
	}
	return fmt.Sprintf("%s %s · requests %d · errors %d", p.elapsed(), sc, p.requests, p.errors)
}

func (p *Progress) elapsed() string {
	d := p.now().Sub(p.start).Round(time.Second)
	return fmt.Sprintf("[%02d:%02d]", int(d.Minutes()), int(d.Seconds())%60)
}
