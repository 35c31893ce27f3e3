package check

import (
	"cmp"
	"hash/maphash"
	"slices"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameCookieIsolation is the canonical name of the cookie-isolation invariant.
const NameCookieIsolation = "cookie-isolation"

func init() {
	register(Spec{
		Name: NameCookieIsolation, Rank: 120, Lab: true, Deployment: FromHistory,
		Summary:  "no response ever carries another user's session (a stolen outdated token is refused)",
		Negative: []string{"neg-old-tokens-valid"},
		New:      func(b Bounds) Invariant { return CookieIsolation{} },
	})
}

// CookieIsolation checks that no response ever carries another user's
// session: the session that answered (X-Regify-User) is the requesting
// user's, no session token is ever handed to two different users, and an
// outdated token (a replayed, possibly stolen cookie) is never accepted.
type CookieIsolation struct{}

// Name implements Invariant.
func (CookieIsolation) Name() string { return NameCookieIsolation }

// issued is one token handed out: its hash and the request that received it.
type issued struct {
	hash uint64
	req  int32
}

// Check implements Invariant.
func (CookieIsolation) Check(h *history.History) reports.Invariant {
	base := origin(h)
	var ev evidence
	checked := 0
	// Tokens are unique per response, so there are as many as requests:
	// radix-sort their 64-bit hashes (linear, and far cheaper than a map
	// this large) and compare the strings of equal neighbours.
	seed := maphash.MakeSeed()
	toks := make([]issued, 0, len(h.Requests))
	newest := make(map[string]string, 64) // user -> newest token received
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.User == "" {
			continue
		}
		if r.SessionUser != "" {
			checked++
			switch {
			case r.SessionUser != r.User:
				if ev.want() {
					ev.lines = append(ev.lines, "answered with "+r.SessionUser+"'s session: "+witness(base, r))
				}
			case r.TokenSent != "" && r.Err == "" && r.Status >= 200 && r.Status < 300 &&
				newest[r.User] != "" && r.TokenSent != newest[r.User]:
				// A replayed (stolen) cookie must be refused and revoke the session.
				if ev.want() {
					ev.lines = append(ev.lines, "outdated token accepted (newest was "+prefix(newest[r.User])+"): "+witness(base, r))
				}
			}
		}
		if r.TokenReceived != "" {
			checked++
			newest[r.User] = r.TokenReceived
			toks = append(toks, issued{maphash.String(seed, r.TokenReceived), int32(i)})
		}
	}
	if checked == 0 {
		return skip("no response named its session user or set a session token")
	}
	toks = radixSort(toks)
	var leaks [][2]int32 // first receiver, other receiver
	var firsts []int32   // first receiver of each distinct token in a run
	for lo := 0; lo < len(toks); {
		hi := lo + 1
		for hi < len(toks) && toks[hi].hash == toks[lo].hash {
			hi++
		}
		// Usually one token per hash. A broken provider may hand one token
		// to everyone, so stay linear: compare each receiver with the first
		// receiver of its token (the run keeps request order).
		firsts = firsts[:0]
		if hi-lo == 1 {
			lo = hi
			continue
		}
		for _, t := range toks[lo:hi] {
			r := &h.Requests[t.req]
			k := slices.IndexFunc(firsts, func(f int32) bool { return h.Requests[f].TokenReceived == r.TokenReceived })
			switch {
			case k < 0:
				firsts = append(firsts, t.req)
			case h.Requests[firsts[k]].User != r.User:
				leaks = append(leaks, [2]int32{firsts[k], t.req})
			}
		}
		lo = hi
	}
	slices.SortFunc(leaks, func(a, b [2]int32) int { return cmp.Compare(a[1], b[1]) })
	for _, l := range leaks {
		a, b := &h.Requests[l[0]], &h.Requests[l[1]]
		if ev.want() {
			ev.lines = append(ev.lines, "token "+prefix(b.TokenReceived)+" given to "+a.User+" at "+offset(base, a.Start)+
				" and to "+b.User+": "+witness(base, b))
		}
	}
	if ev.count() > 0 {
		return fail(&ev, "%d responses broke session isolation (another user's session, a token handed to two users, or an outdated token accepted)", ev.count())
	}
	return pass("%d session facts checked: every response carried the requesting user's own session", checked)
}

// radixSort sorts by hash in four stable passes of 16 bits, so tokens of
// equal hash stay in request order.
func radixSort(a []issued) []issued {
	if len(a) < 2 {
		return a
	}
	tmp := make([]issued, len(a))
	count := make([]int, 1<<16)
	for shift := uint(0); shift < 64; shift += 16 {
		clear(count)
		for _, t := range a {
			count[(t.hash>>shift)&0xffff]++
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, t := range a {
			d := (t.hash >> shift) & 0xffff
			tmp[count[d]] = t
			count[d]++
		}
		a, tmp = tmp, a
	}
	return a
}
