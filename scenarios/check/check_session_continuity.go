package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameSessionContinuity is the canonical name of the session-continuity invariant.
const NameSessionContinuity = "session-continuity"

func init() {
	register(Spec{
		Name: NameSessionContinuity, Rank: 20, Lab: true, Deployment: FromHistory,
		Summary:  "a user presenting its newest token is never logged out outside an allowed failover; every authenticated response rotates the cookie",
		Negative: []string{"neg-non-rotating-cookie", "neg-session-loss-round-robin"},
		New: func(b Bounds) Invariant {
			return SessionContinuity{Grace: b.Grace, MaxLossesPerFault: b.MaxLossesPerFault, MaxLossesPerUser: b.MaxLossesPerUser}
		},
	})
}

// SessionContinuity checks that a user who always presents its newest token
// is never logged out. regify rotates the session cookie on every response,
// so a 401 on the newest token means the session was lost (another provider
// answered, or the session store forgot it). Such a loss is allowed only
// inside a provider fault window, and counted per fault. The rotation itself
// is checked too: an authenticated 2xx answer (it names its session user)
// that sets no new token breaks the seed's premise.
type SessionContinuity struct {
	// Grace extends each provider fault's window past its recovery.
	Grace time.Duration
	// MaxLossesPerFault bounds losses inside one fault window; negative
	// means any number.
	MaxLossesPerFault int
	// MaxLossesPerUser bounds how often one user may lose its session in
	// one fault window (moved there and back: logged out twice); zero or
	// negative means any number.
	MaxLossesPerUser int
}

// Name implements Invariant.
func (SessionContinuity) Name() string { return NameSessionContinuity }

// Check implements Invariant.
func (s SessionContinuity) Check(h *history.History) reports.Invariant {
	ws := windows(h, s.Grace, isOutage)
	perFault := make([]int, len(ws))
	type userFault struct {
		fault int
		user  string
	}
	perUser := map[userFault]int{}
	base := origin(h)
	newest := make(map[string]string, 64) // user -> newest token received
	loggedOut := map[string]bool{}        // users logged out at least once
	outside := map[string]bool{}          // ... of them, outside any failover
	var ev evidence
	presented, allowed, unrotated := 0, 0, 0
	rotation := h.Meta.RotationJudged()
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.User == "" {
			continue
		}
		if r.TokenSent != "" {
			presented++
			switch {
			case r.SessionLost() && r.TokenSent != newest[r.User]:
				// An outdated token revokes the whole session by design: the
				// 401 that follows on the newest token is not a lost session.
				delete(newest, r.User)
			case rotation && notRotated(r):
				unrotated++
				if ev.want() {
					ev.lines = append(ev.lines, "session cookie not rotated: "+witness(base, r))
				}
			case r.SessionLost():
				loggedOut[r.User] = true
				if j := overlapping(ws, r); j >= 0 {
					perFault[j]++
					allowed++
					perUser[userFault{j, r.User}]++
					if n := perUser[userFault{j, r.User}]; s.MaxLossesPerUser > 0 && n == s.MaxLossesPerUser+1 && ev.want() {
						f := ws[j].fault
						ev.lines = append(ev.lines, fmt.Sprintf("%s lost its session %d times in fault %s on %s (bound %d a user): %s",
							r.User, n, f.Name, affected(f), s.MaxLossesPerUser, witness(base, r)))
					}
				} else {
					outside[r.User] = true
					if ev.want() {
						ev.lines = append(ev.lines, "logged out with the newest token outside any failover: "+witness(base, r))
					}
				}
			}
		}
		if r.TokenReceived != "" {
			newest[r.User] = r.TokenReceived
		}
	}
	if presented == 0 {
		return skip("no request presented a session token")
	}
	if s.MaxLossesPerFault >= 0 {
		for j, n := range perFault {
			if n > s.MaxLossesPerFault {
				f := ws[j].fault
				ev.addf("%d sessions lost in fault %s on %s at %s (bound %d)", n, f.Name, affected(f), offset(base, f.Injected), s.MaxLossesPerFault)
			}
		}
	}
	lost := ""
	if allowed > 0 {
		lost = fmt.Sprintf("; %d sessions of %d users lost during failovers", allowed, len(loggedOut))
	}
	if ev.count() > 0 {
		var parts []string
		if len(outside) > 0 {
			parts = append(parts, fmt.Sprintf("%d users were logged out outside a failover although they presented their newest token", len(outside)))
		}
		if unrotated > 0 {
			parts = append(parts, fmt.Sprintf("%d authenticated responses did not rotate the session cookie", unrotated))
		}
		if len(parts) == 0 {
			parts = append(parts, "more sessions lost in a failover than allowed")
		}
		return fail(&ev, "%s%s", strings.Join(parts, "; "), lost)
	}
	rotated := "every authenticated answer rotated the cookie"
	if !rotation {
		rotated = "rotation not judged (the session flow says rotates: false)"
	}
	return pass("%d requests presented a session token: no logout on the newest token outside a failover, %s%s",
		presented, rotated, lost)
}

// coveringWindow returns the index of the first window covering t, or -1.
func coveringWindow(ws []window, t time.Time) int {
	for j, w := range ws {
		if w.covers(t) {
			return j
		}
	}
	return -1
}

// notRotated reports whether r is an authenticated success that did not hand
// out a new session token. A logout ends the session instead.
func notRotated(r *history.Request) bool {
	return r.Err == "" && r.Status >= 200 && r.Status < 300 && r.SessionUser != "" && r.Op != history.OpLogout &&
		(r.TokenReceived == "" || r.TokenReceived == r.TokenSent)
}
