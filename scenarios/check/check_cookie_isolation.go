package check

import (
	"hash/maphash"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/history"
)

// CookieIsolation checks that no response ever carries another user's
// session: the session that answered (X-Regify-User) is the requesting
// user's, and no session token is ever handed to two different users.
type CookieIsolation struct{}

// Name implements Invariant.
func (CookieIsolation) Name() string { return NameCookieIsolation }

// Check implements Invariant.
func (CookieIsolation) Check(h *history.History) reports.Invariant {
	base := origin(h)
	var ev evidence
	// Tokens are unique per response, so a map of them is as large as the
	// history: key it by a 64-bit hash and compare the strings on a hit.
	seed := maphash.MakeSeed()
	first := make(map[uint64]int32, len(h.Requests))
	var collided map[string]int32 // tokens whose hash another token took first
	checked := 0
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.User == "" {
			continue
		}
		if r.SessionUser != "" {
			checked++
			if r.SessionUser != r.User && ev.want() {
				ev.lines = append(ev.lines, "answered with "+r.SessionUser+"'s session: "+witness(base, r))
			}
		}
		if r.TokenReceived == "" {
			continue
		}
		checked++
		k := maphash.String(seed, r.TokenReceived)
		j, ok := first[k]
		if !ok {
			first[k] = int32(i)
			continue
		}
		if o := &h.Requests[j]; o.TokenReceived != r.TokenReceived {
			if collided == nil {
				collided = map[string]int32{}
			}
			if j, ok = collided[r.TokenReceived]; !ok {
				collided[r.TokenReceived] = int32(i)
				continue
			}
		}
		if o := &h.Requests[j]; o.User != r.User && ev.want() {
			ev.lines = append(ev.lines, "token "+prefix(r.TokenReceived)+" given to "+o.User+" at "+offset(base, o.Start)+
				" and to "+r.User+": "+witness(base, r))
		}
	}
	if checked == 0 {
		return skip("no response named its session user or set a session token")
	}
	if ev.count() > 0 {
		return fail(&ev, "%d responses carried another user's session", ev.count())
	}
	return pass("%d session facts checked: every response carried the requesting user's own session", checked)
}
