package deploy

import (
	"fmt"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// errorWindow is the stop condition's view of the load: finished requests
// and whether they failed, over a sliding window. It is a load.Sink.
type errorWindow struct {
	cond StopCondition
	now  func() time.Time

	mu     sync.Mutex
	events []windowEvent // in arrival order
}

type windowEvent struct {
	at     time.Time
	failed bool
}

func newErrorWindow(c StopCondition) *errorWindow {
	return &errorWindow{cond: c, now: time.Now}
}

// Add implements load.Sink; probes do not count.
func (w *errorWindow) Add(r history.Request) int64 {
	if r.User == "probe" {
		return 0
	}
	failed := r.Err != "" || r.Status == 0 || r.Status >= 500
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, windowEvent{at: w.now(), failed: failed})
	w.prune(w.now())
	return 0
}

func (w *errorWindow) prune(now time.Time) {
	cut := 0
	for cut < len(w.events) && now.Sub(w.events[cut].at) > w.cond.Window {
		cut++
	}
	w.events = w.events[cut:]
}

// breach reports whether the error rate over the window is above the bound,
// with a sentence saying so.
func (w *errorWindow) breach() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prune(w.now())
	n, failed := len(w.events), 0
	for _, e := range w.events {
		if e.failed {
			failed++
		}
	}
	if n < w.cond.MinRequests || n == 0 {
		return "", false
	}
	rate := float64(failed) / float64(n)
	if rate <= w.cond.MaxErrorRate {
		return "", false
	}
	return fmt.Sprintf("%d of %d requests (%.0f%%) failed in the last %s, above the bound of %.0f%% (stop.max_error_rate)",
		failed, n, 100*rate, w.cond.Window, 100*w.cond.MaxErrorRate), true
}
