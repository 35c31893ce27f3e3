package check

import (
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameStickiness is the canonical name of the stickiness invariant.
const NameStickiness = "stickiness"

func init() {
	register(Spec{
		Name: NameStickiness, Rank: 10, Lab: true, Deployment: Annotated,
		Summary:  "each source IP's requests reach one provider while it is healthy (a re-pin only after a fault of that provider, no flapping back)",
		Needs:    NeedsBackendIdentity,
		Negative: []string{"neg-round-robin", "neg-cookie-persistence", "neg-session-loss-round-robin"},
		New:      func(b Bounds) Invariant { return Stickiness{Grace: b.Grace, Failback: b.Failback} },
	})
}

// Stickiness checks the seed's session persistence by source IP: per source
// IP and tenant, consecutive successful responses come from one provider. A
// client may move only when its provider is faulted (a provider fault on it
// whose window, extended by Grace, overlaps the time between the client's
// last answer from it and its first from the other), and must not move back
// when the fault heals — that would be flapping, and a second logout.
type Stickiness struct {
	// Grace extends each provider fault's window past its recovery.
	Grace time.Duration
	// Failback is FailbackForbid ("" too) or FailbackAllow: whether a client
	// re-pinned away from a faulted provider may return to it once the
	// fault is recovered. Either way the fail-backs are named and counted.
	Failback string
}

// Fail-back policies (Bounds.Failback, the deployment file's
// bounds.failback).
const (
	FailbackForbid = "forbid"
	FailbackAllow  = "allow"
)

// Name implements Invariant.
func (Stickiness) Name() string { return NameStickiness }

type stickyClient struct {
	provider string
	at       time.Time
	moved    bool // moved at least once while its provider was healthy
	// away is the provider a fault re-pinned the client away from: moving
	// back to it after the fault is a fail-back.
	away string
	// denied is when the client was last refused (401/403) and by whom.
	denied   time.Time
	deniedBy string
}

type clientKey struct{ ip, tenant string }

// Check implements Invariant.
func (s Stickiness) Check(h *history.History) reports.Invariant {
	ws := windows(h, s.Grace, isProviderFault)
	restarts := windows(h, 0, isBalancerFault)
	base := origin(h)
	clients := make(map[clientKey]*stickyClient, 64)
	var ev evidence
	repins, rebalanced, moves, movers := 0, 0, 0, 0
	failbacks, lost := 0, 0
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.Provider == "" || r.SourceIP == "" || probe(r) {
			continue
		}
		k := clientKey{r.SourceIP, r.Tenant}
		c := clients[k]
		if !r.OK() {
			if c != nil && r.Err == "" && (r.SessionLost() || r.Status == 403) {
				c.denied, c.deniedBy = r.Start, r.Provider
			}
			continue
		}
		if c == nil {
			clients[k] = &stickyClient{provider: r.Provider, at: r.Start}
			continue
		}
		if c.provider != r.Provider {
			switch {
			// The move happened between the last answer from the old
			// provider and the end of this one: a request sent a moment
			// before the fault and answered by the survivor after it is a
			// re-pin, not a move while healthy.
			case faulted(ws, c.provider, c.at, r.Start.Add(r.Latency)):
				repins++
				c.away = c.provider
			case across(restarts, c.at, r.Start.Add(r.Latency)):
				// Its last answer came from the balancer before a restart,
				// this one from the new balancer, which pinned it afresh:
				// once, not again, and not a fail-back when it returns.
				rebalanced++
				c.away = ""
			case r.Provider == c.away:
				// Back to the provider a fault took it from: a fail-back.
				failbacks++
				c.away = ""
				sessionLost := c.deniedBy == r.Provider && !c.denied.Before(c.at)
				if sessionLost {
					lost++
				}
				if s.Failback != FailbackAllow && ev.want() {
					note := ""
					if sessionLost {
						note = " and had to log in again"
					}
					ev.lines = append(ev.lines, "fail-back after "+r.Provider+" recovered: "+r.SourceIP+" "+r.Tenant+" returned from "+c.provider+
						" at "+offset(base, r.Start)+note+"; "+witness(base, r))
				}
			default:
				moves++
				// One witness per client: its first bad move shows the pattern.
				if !c.moved {
					c.moved = true
					movers++
					if ev.want() {
						ev.lines = append(ev.lines, r.SourceIP+" "+r.Tenant+": "+c.provider+" at "+offset(base, c.at)+
							" → "+r.Provider+" at "+offset(base, r.Start)+" while "+c.provider+" was not faulted; "+witness(base, r))
					}
				}
			}
			c.provider = r.Provider
		}
		c.at = r.Start
	}
	if len(clients) == 0 {
		if h.Meta.Session != nil && h.Meta.Session.Backend == "" {
			return stickyBySessions(h, windows(h, s.Grace, isOutage))
		}
		return skip("no successful request named its provider (%s) with a source IP", backendSource(h))
	}
	fb := ""
	if len(restarts) > 0 {
		fb = fmt.Sprintf("; %d re-pinned once by the balancer after its restart (its affinity table was lost)", rebalanced)
	}
	if failbacks > 0 {
		fb = fmt.Sprintf("; fail-back after recovery: %d clients returned to their old provider, %d sessions lost (failback: %s)", failbacks, lost, orForbid(s.Failback))
	}
	if ev.count() > 0 {
		return fail(&ev, "%d of %d clients moved between providers while their provider was healthy (%d moves; %d allowed re-pins after faults)%s",
			movers+btoi(s.Failback != FailbackAllow)*failbacks, len(clients), moves+btoi(s.Failback != FailbackAllow)*failbacks, repins, fb)
	}
	return pass("%d clients (source IP and tenant) stayed on one provider; %d re-pins, all after a provider fault%s", len(clients), repins, fb)
}

// across reports whether a balancer restart began after from and before
// to: the client's last answer came through the balancer before it, this
// one through the restarted balancer.
func across(restarts []window, from, to time.Time) bool {
	for _, w := range restarts {
		if from.Before(w.from) && to.After(w.from) {
			return true
		}
	}
	return false
}

// faulted reports whether a provider fault window of p overlaps [from, to]:
// the client last saw p at from and another provider at to, so p failed in
// between (an idle client may come back only after the fault healed). A
// fault naming no provider counts for every provider.
func faulted(ws []window, p string, from, to time.Time) bool {
	for _, w := range ws {
		fp := affected(w.fault)
		if (fp == "" || fp == p) && !w.from.After(to) && (w.to.IsZero() || !w.to.Before(from)) {
			return true
		}
	}
	return false
}

func orForbid(p string) string {
	if p == "" {
		return FailbackForbid
	}
	return p
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// backendSource is where the run looked for the node that answered.
func backendSource(h *history.History) string {
	if h.Meta.Session == nil {
		return "X-Regify-Provider"
	}
	return h.Meta.Session.Backend
}

// stickyBySessions judges stickiness when no answer can name its node (the
// session flow has no backend:): a client moved to another node loses its
// session there, so a session lost on the newest token outside any
// provider fault shows a move. Moves that keep the session (a shared
// session store) cannot be seen this way, and the verdict says so.
func stickyBySessions(h *history.History, ws []window) reports.Invariant {
	const how = "judged from session continuity alone: no answer names its node (set backend: to see moves themselves)"
	base := origin(h)
	newest := make(map[string]string, 64)
	var ev evidence
	presented := 0
	movers := map[string]bool{}
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.User == "" || probe(r) {
			continue
		}
		if r.TokenSent != "" {
			presented++
			if r.SessionLost() && r.TokenSent == newest[r.User] && overlapping(ws, r) < 0 && !movers[r.SourceIP+" "+r.Tenant] {
				movers[r.SourceIP+" "+r.Tenant] = true
				if ev.want() {
					ev.lines = append(ev.lines, r.SourceIP+" "+r.Tenant+" lost its session on its newest token while no provider was faulted: "+witness(base, r))
				}
			}
		}
		if r.TokenReceived != "" {
			newest[r.User] = r.TokenReceived
		}
	}
	if presented == 0 {
		return skip("no answer named its node and no request presented a session token: stickiness cannot be judged (set backend: in the deployment file)")
	}
	if ev.count() > 0 {
		return fail(&ev, "%d clients lost their session outside any provider fault: they were moved to another node (%s)", len(movers), how)
	}
	return pass("%d requests presented their newest session token and none lost it outside a provider fault (%s)", presented, how)
}
