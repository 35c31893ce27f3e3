package check

import (
	"fmt"
	"slices"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameAvailability is the canonical name of the availability invariant.
const NameAvailability = "availability"

func init() {
	register(Spec{
		Name: NameAvailability, Rank: 62, Lab: true, Deployment: FromHistory,
		Summary:  "outside provider-fault and balancer-restart windows every user request is answered: no transport error, no 5xx",
		Negative: []string{"neg-flaky-provider"},
		New:      func(b Bounds) Invariant { return Availability{Grace: b.Grace} },
	})
}

// Availability judges the requests no fault excuses. Inside an outage's
// window (a provider fault, a balancer restart, plus Grace) failures are
// failover's to judge; everywhere else a request that got no answer or a
// server error is a user the setup failed, whatever else went right: a
// provider that errs on every tenth request while its health check stays
// green would pass every other invariant.
type Availability struct {
	Grace time.Duration
}

// Name implements Invariant.
func (Availability) Name() string { return NameAvailability }

// Check implements Invariant.
func (a Availability) Check(h *history.History) reports.Invariant {
	ws := windows(h, a.Grace, isOutage)
	base := origin(h)
	var ev evidence
	judged, bad := 0, 0
	perProvider := map[string]int{}
	for i := range h.Requests {
		r := &h.Requests[i]
		if probe(r) || r.Op == history.OpRedirectFollow || overlapping(ws, r) >= 0 {
			continue
		}
		judged++
		if !failed(r) {
			continue
		}
		bad++
		perProvider[orNone(r.Provider)]++ // (none): no provider answered
		if ev.want() {
			ev.lines = append(ev.lines, witness(base, r))
		}
	}
	if judged == 0 {
		return skip("no user request outside fault windows")
	}
	if bad > 0 {
		return fail(&ev, "%d of %d requests outside fault windows failed (transport error or 5xx; by provider: %s)", bad, judged, countsOf(perProvider))
	}
	return pass("%d requests outside fault windows, every one answered without a server error", judged)
}

// countsOf prints a provider → count map in name order.
func countsOf(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %d", k, m[k])
	}
	return out
}
