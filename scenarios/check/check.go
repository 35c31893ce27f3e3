// Package check holds the invariants that judge a run: pure functions of its
// history (requests, faults, final state) returning pass, fail or skip with
// evidence a human can read. They never talk to the lab, so they judge a
// hand-made history, a lab run and a real deployment alike.
//
// Requests are judged in recorded order (Seq). Each simulated user sends one
// request at a time, so that is each client's own order.
package check

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// Invariant is one promise of the setup, judged on a history.
type Invariant interface {
	// Name is the canonical name used in every report (stickiness, tls, ...).
	Name() string
	// Check judges h. It must not modify h.
	Check(h *history.History) reports.Invariant
}

// MaxEvidence is how many witness lines an invariant lists before it
// summarises the rest as "and N more".
const MaxEvidence = 5

// Bounds are the knobs of the whole invariant set; a scenario starts from
// DefaultBounds and changes what it needs.
type Bounds struct {
	// Grace extends a fault's window past its recovery: requests in flight
	// and health checks take a moment to notice.
	Grace time.Duration
	// MaxLossesPerFault bounds session losses inside one allowed failover
	// window; negative means any number (still counted).
	MaxLossesPerFault int
	// MaxLossesPerUser bounds how often one user may lose its session in
	// one fault window; zero or negative means any number.
	MaxLossesPerUser int
	// MaxRecovery bounds the time from a provider fault until requests
	// succeed again for good.
	MaxRecovery time.Duration
	// FailoverBudget bounds disrupted requests (failed or stalled) between
	// injection and recovery.
	FailoverBudget int
	// Failback says whether clients may return to a provider once its fault
	// is recovered: FailbackForbid (the default; each such client loses its
	// session a second time) or FailbackAllow.
	Failback string
	// MaxStall is how long a user may wait for one answer before the
	// request counts as disrupted, even when it ends in 200.
	MaxStall time.Duration
	// ConsecutiveOK, when positive, lets failover count as recovered at the
	// first run of that many successes instead of after the last failure.
	ConsecutiveOK int
	// MaxLag bounds replication lag outside database fault windows.
	MaxLag time.Duration
	// LagGrace extends database fault windows for the lag check.
	LagGrace time.Duration
	// MaxConvergeWait bounds how long the sides took to converge.
	MaxConvergeWait time.Duration
	// WriteSides are the database sides every acknowledged write must be on;
	// empty means every side (set it for one-way setups).
	WriteSides []string
	// ReplicaSides are the sides whose replica threads must run; empty means
	// every side, or with one-way replication any one side.
	ReplicaSides []string
}

// DefaultBounds are bounds for the lab on a 2-core machine.
func DefaultBounds() Bounds {
	return Bounds{
		Grace:             2 * time.Second,
		MaxLossesPerFault: -1,
		MaxLossesPerUser:  1,
		MaxRecovery:       5 * time.Second,
		FailoverBudget:    200,
		MaxStall:          DefaultMaxWait,
		MaxLag:            time.Second,
		LagGrace:          5 * time.Second,
		MaxConvergeWait:   30 * time.Second,
	}
}

// Run judges h with every invariant, in order. The verdict's Name is always
// the invariant's canonical name.
func Run(h *history.History, invs []Invariant) []reports.Invariant {
	out := make([]reports.Invariant, 0, len(invs))
	for _, inv := range invs {
		v := inv.Check(h)
		v.Name = inv.Name()
		out = append(out, v)
	}
	return out
}

// evidence collects witness lines, keeping the first MaxEvidence.
type evidence struct {
	lines []string
	more  int
}

// want reports whether another line would be kept; when not it counts it,
// so callers can skip formatting.
func (e *evidence) want() bool {
	if len(e.lines) < MaxEvidence {
		return true
	}
	e.more++
	return false
}

func (e *evidence) addf(format string, args ...any) {
	if e.want() {
		e.lines = append(e.lines, fmt.Sprintf(format, args...))
	}
}

func (e *evidence) count() int { return len(e.lines) + e.more }

func (e *evidence) list() []string {
	if e.more > 0 {
		return append(e.lines, fmt.Sprintf("and %d more", e.more))
	}
	return e.lines
}

func pass(summary string, args ...any) reports.Invariant {
	return reports.Invariant{Verdict: reports.Pass, Summary: fmt.Sprintf(summary, args...)}
}

func skip(summary string, args ...any) reports.Invariant {
	return reports.Invariant{Verdict: reports.Skip, Summary: fmt.Sprintf(summary, args...)}
}

func fail(e *evidence, summary string, args ...any) reports.Invariant {
	return reports.Invariant{Verdict: reports.Fail, Summary: fmt.Sprintf(summary, args...), Evidence: e.list()}
}

// origin is the time offsets in evidence are measured from: the run's start,
// or the first request when the history has no start.
func origin(h *history.History) time.Time {
	if !h.Meta.Started.IsZero() {
		return h.Meta.Started
	}
	var t time.Time
	for i := range h.Requests {
		if s := h.Requests[i].Start; t.IsZero() || s.Before(t) {
			t = s
		}
	}
	return t
}

// offset formats t relative to the origin, "+12.345s".
func offset(base, t time.Time) string {
	return fmt.Sprintf("%+.3fs", t.Sub(base).Seconds())
}

// witness is a one-line description of a request.
func witness(base time.Time, r *history.Request) string {
	var b strings.Builder
	b.Grow(128)
	b.WriteString(offset(base, r.Start))
	fmt.Fprintf(&b, " #%d", r.Seq)
	for _, s := range []string{r.User, r.SourceIP, r.Method, r.URL} {
		if s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	if r.Err != "" {
		fmt.Fprintf(&b, " → error %q", r.Err)
	} else {
		fmt.Fprintf(&b, " → %d", r.Status)
	}
	if r.Provider != "" {
		b.WriteString(" from ")
		b.WriteString(r.Provider)
	}
	if r.TokenSent != "" {
		b.WriteString(" sent ")
		b.WriteString(prefix(r.TokenSent))
	}
	if r.TokenReceived != "" {
		b.WriteString(" got ")
		b.WriteString(prefix(r.TokenReceived))
	}
	return b.String()
}

// waitNote says where a request's time went when it waited for its user:
// "scheduled +2.281s, waited 2.998s for its user, answered in 7ms".
func waitNote(base time.Time, r *history.Request) string {
	if r.Scheduled.IsZero() || !r.Scheduled.Before(r.Start) {
		return fmt.Sprintf("answered in %s", r.Latency.Round(time.Millisecond))
	}
	return fmt.Sprintf("scheduled %s, waited %s for its user, answered in %s", offset(base, r.Scheduled),
		r.Start.Sub(r.Scheduled).Round(time.Millisecond), r.Latency.Round(time.Millisecond))
}

// prefix shortens a token to what a reader needs to tell tokens apart.
func prefix(tok string) string {
	if len(tok) <= 8 {
		return tok
	}
	return tok[:8] + "…"
}

// window is a span of time in which some failures are allowed.
type window struct {
	from, to time.Time // to is zero for an open window (never recovered)
	fault    *history.Fault
}

func (w window) covers(t time.Time) bool {
	return !t.Before(w.from) && (w.to.IsZero() || !t.After(w.to))
}

// spans reports whether [from, to] touches the window.
func (w window) spans(from, to time.Time) bool {
	return !to.Before(w.from) && (w.to.IsZero() || !from.After(w.to))
}

// overlaps reports whether r's life — from when it was due (or sent) to the
// end of its answer — touches the window: a request sent a moment before a
// fault and answered during it felt the fault.
func (w window) overlaps(r *history.Request) bool {
	begin := r.Start
	if !r.Scheduled.IsZero() && r.Scheduled.Before(begin) {
		begin = r.Scheduled
	}
	end := r.Start.Add(r.Latency)
	return !end.Before(w.from) && (w.to.IsZero() || !begin.After(w.to))
}

// overlapping returns the index of the window r overlaps whose fault began
// last, or -1.
func overlapping(ws []window, r *history.Request) int {
	found := -1
	for j, w := range ws {
		// The latest fault wins: when windows overlap (a grace running on
		// past the next fault's start), what r shows is the newer fault's
		// doing (seen: a session lost to a wire reset of p2 was counted
		// against the crash of p1 before it, as that user's second loss).
		if w.overlaps(r) && (found < 0 || w.from.After(ws[found].from)) {
			found = j
		}
	}
	return found
}

// windows returns [Injected, Recovered+grace] of the faults keep selects.
func windows(h *history.History, grace time.Duration, keep func(*history.Fault) bool) []window {
	var ws []window
	for i := range h.Faults {
		f := &h.Faults[i]
		if !keep(f) {
			continue
		}
		w := window{from: f.Injected, fault: f}
		if !f.Recovered.IsZero() {
			w.to = f.Recovered.Add(grace)
		}
		ws = append(ws, w)
	}
	return ws
}

// affected is the provider a fault takes out of service: Provider, or in
// histories without it Target; "" when it names none.
func affected(f *history.Fault) string {
	if f.Provider != "" {
		return f.Provider
	}
	return f.Target
}

func isProviderFault(f *history.Fault) bool { return f.ProviderFault }
func isBalancerFault(f *history.Fault) bool { return f.BalancerFault }

// isOutage is a fault that may cut users off for its window: a provider
// out of service, or the balancer itself restarting.
func isOutage(f *history.Fault) bool        { return f.ProviderFault || f.BalancerFault }
func isDatabaseFault(f *history.Fault) bool { return f.DatabaseFault }

// probe reports whether r is a probe rather than a user's request.
func probe(r *history.Request) bool {
	return r.Op == history.OpRedirect || r.Op == history.OpTLS || r.Op == history.OpHealth
}

// failed is a request the setup failed to answer: no response or a server
// error. Application answers (401, 404) are not failures of the setup.
func failed(r *history.Request) bool {
	return r.Err != "" || r.Status == 0 || r.Status >= 500
}

// acked reports whether r is an acknowledged send of a message.
func acked(r *history.Request) bool {
	return r.Op == history.OpSend && r.Err == "" && (r.Status == 200 || r.Status == 201) && r.MessageID != ""
}

// ackedSends returns the first acknowledgement of each message id, in
// recorded order (a retried send may be acknowledged twice).
func ackedSends(h *history.History) []*history.Request {
	var out []*history.Request
	seen := map[string]bool{}
	for i := range h.Requests {
		r := &h.Requests[i]
		if acked(r) && !seen[r.MessageID] {
			seen[r.MessageID] = true
			out = append(out, r)
		}
	}
	return out
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
