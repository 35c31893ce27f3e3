package check

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameSplitBrain is the canonical name of the split-brain invariant.
const NameSplitBrain = "split-brain"

func init() {
	register(Spec{
		Name: NameSplitBrain, Rank: 85, Lab: true, Deployment: FromHistory,
		Summary:  "a replication partition leaves nothing that cannot be reconciled: a session token accepted on both sides ends as one token on both masters after the heal (its other branch refused), and no message id is acknowledged on both sides with different content",
		Needs:    NeedsDatabase,
		Negative: []string{"neg-split-brain"},
		New:      func(b Bounds) Invariant { return SplitBrain{Grace: b.Grace} },
	})
}

// partitionTarget is the Target of a fault that partitions the masters from
// each other while both stay reachable for their providers (the
// replication-cut fault's).
const partitionTarget = "replication"

// minSecret is the shortest sessions.secret value matched against the
// tokens of the history: shorter ones could match a token by chance.
const minSecret = 16

// SplitBrain judges what a partition of the masters leaves behind. While
// the replication link is cut both ways each master takes writes alone, so
// one session token presented on both sides is accepted on both: its chain
// forks (two different successors of one token), and no provider can refuse
// it while it cannot see the other side. What the application can and must
// do is reconcile the fork when the link heals: both masters end on one
// current token for the session, so the other branch's next request is
// refused as outdated, as the regify appliance refuses any outdated token.
//
// A fork is seen in the history: one TokenSent accepted (OK) with different
// TokenReceived by different providers. It fails when it was not
// reconciled: the final sessions rows of the two masters still hold tokens
// of different branches, or both branches were still accepted after the
// heal (plus Grace). It passes when the masters' sessions tables are equal
// in the end. A sessions row whose masters hold the same generation with
// different secrets is a fork even when the history did not record the
// requests that made it. A message id acknowledged on both sides by
// different senders is two different messages under one id, which no
// merge can mend (the history holds no bodies; the sender is part of the
// row). Runs without a partition, or without a request during one, are
// skipped: nothing could fork.
type SplitBrain struct {
	// Grace is how long after the heal a branch may still be accepted on
	// its own side while replication catches up.
	Grace time.Duration
}

// Name implements Invariant.
func (SplitBrain) Name() string { return NameSplitBrain }

func isPartition(f *history.Fault) bool { return f.DatabaseFault && f.Target == partitionTarget }

// tokenFork is one token accepted with different successors by different
// providers: accepts holds the first acceptance of each successor.
type tokenFork struct {
	token   string
	accepts []*history.Request
}

// branch is what followed one acceptance of a forked token: every token
// descended from its successor and the requests that presented them.
type branch struct {
	accept *history.Request
	tokens map[string]bool // its successor and every descendant
	reqs   []*history.Request
}

// sessionDiff is a sessions row both masters hold with different secrets.
type sessionDiff struct {
	d          *history.RowDiff
	secret     [2]string // side a's, side b's
	genDiffers bool
	matched    bool // explained by a fork of the history
}

// Check implements Invariant.
func (s SplitBrain) Check(h *history.History) reports.Invariant {
	parts := windows(h, 0, isPartition)
	if len(parts) == 0 {
		return skip("no replication partition in this run (a database fault on target %q): nothing could fork", partitionTarget)
	}
	during := 0
	for i := range h.Requests {
		if r := &h.Requests[i]; !probe(r) && overlapping(parts, r) >= 0 {
			during++
		}
	}
	if during == 0 {
		return skip("no request was made while the masters were partitioned (%s): nothing could fork", plural(len(parts), "partition", "partitions"))
	}
	base := origin(h)
	db := h.Final.DB
	diffs := sessionDiffs(db)
	var ev evidence
	reconciled, unknown := 0, 0
	example := ""
	forks := findForks(h)
	for k, branches := range followBranches(h, forks) {
		f := forks[k]
		what := forkWitness(base, f, parts)
		heal, healed := healOf(f, parts)
		if healed {
			if live := liveAfter(branches, heal.Add(s.Grace)); len(live) >= 2 {
				ev.addf("%s; both branches were still accepted after the heal at %s: %s", what, offset(base, heal), liveWitness(base, live))
				markMatched(diffs, branches)
				continue
			}
		}
		if d, owner := matchDiff(diffs, branches); d != nil {
			ev.addf("%s; after the heal the masters still disagree on the session (sessions row %s): master a holds %s, master b holds %s",
				what, d.d.Key, holder(owner[0], d.secret[0]), holder(owner[1], d.secret[1]))
			continue
		}
		switch {
		case db == nil:
			unknown++
		case sessionsEqual(db):
			reconciled++
			if example == "" {
				example = fmt.Sprintf("%s's %s by %s", userOf(f.accepts[0]), prefix(f.token), providersOf(f.accepts))
			}
		default:
			ev.addf("%s; the masters' sessions tables differ (%s) and this session is not among the rows compared: not shown reconciled",
				what, sessionsSums(db))
		}
	}
	var issuers map[string]*history.Request
	for i := range diffs {
		d := &diffs[i]
		if d.matched || d.genDiffers {
			continue // a stale row (replication stopped or lagging) is not a fork; replication-convergence reports it
		}
		if issuers == nil {
			issuers = issuedBySecret(h)
		}
		ev.addf("sessions row %s: both masters hold the same generation of one session with different secrets (a=%s%s, b=%s%s): two successors of one token were accepted, one on each master, and the heal did not reconcile them",
			d.d.Key, tail(d.secret[0]), issuedNote(base, issuers[d.secret[0]]), tail(d.secret[1]), issuedNote(base, issuers[d.secret[1]]))
	}
	for _, c := range conflictingAcks(h) {
		ev.addf("message id %s acknowledged on both sides with different content: by %s via %s at %s and by %s via %s at %s",
			c[0].MessageID, userOf(c[0]), c[0].Provider, offset(base, c[0].Start), userOf(c[1]), c[1].Provider, offset(base, c[1].Start))
	}
	if ev.count() > 0 {
		return fail(&ev, "%s the partition left unreconciled (%s during %s)",
			plural(ev.count(), "fork", "forks"), plural(during, "request", "requests"), plural(len(parts), "partition", "partitions"))
	}
	if unknown > 0 {
		return skip("%s accepted on both sides, but the history holds no final database state to show the forks were reconciled",
			plural(unknown, "session token was", "session tokens were"))
	}
	tokens := "no session token was accepted on both sides"
	if reconciled > 0 {
		tokens = fmt.Sprintf("%s accepted on both sides, reconciled at the heal (%s: both masters ended with equal sessions rows, one token per session)",
			plural(reconciled, "session token", "session tokens"), example)
	} else if db != nil && sessionsEqual(db) {
		tokens += " and the masters' sessions tables are equal"
	} else if db != nil {
		tokens += " and no sessions row the harness compared is forked"
	}
	return pass("%s during %s: %s; no message id acknowledged on both sides with different content",
		plural(during, "request", "requests"), plural(len(parts), "partition", "partitions"), tokens)
}

// rotated reports whether r was accepted with a token and answered with
// its successor: one link of a token chain.
func rotated(r *history.Request) bool {
	return r.TokenSent != "" && r.TokenReceived != "" && r.TokenReceived != r.TokenSent && r.OK() && !probe(r)
}

// findForks returns, in order of first acceptance, every token accepted
// with different successors by at least two providers. One provider
// accepting a token twice (a retry, a replay) is not a fork of the masters.
// Tokens are as many as requests, so the presented ones are radix-sorted
// by hash (as cookie-isolation does) instead of kept in a map.
func findForks(h *history.History) []tokenFork {
	seed := maphash.MakeSeed()
	var toks []issued
	for i := range h.Requests {
		if r := &h.Requests[i]; rotated(r) {
			toks = append(toks, issued{maphash.String(seed, r.TokenSent), int32(i)})
		}
	}
	toks = radixSort(toks)
	var out []tokenFork
	for lo := 0; lo < len(toks); {
		hi := lo + 1
		for hi < len(toks) && toks[hi].hash == toks[lo].hash {
			hi++
		}
		if hi-lo > 1 {
			out = append(out, forksOf(h, toks[lo:hi])...)
		}
		lo = hi
	}
	slices.SortFunc(out, func(a, b tokenFork) int { return cmp.Compare(a.accepts[0].Seq, b.accepts[0].Seq) })
	return out
}

// forksOf splits requests of one token hash (in request order; almost
// always one token) by token and returns the tokens that forked.
func forksOf(h *history.History, run []issued) []tokenFork {
	var out []tokenFork
	var tokens []string
	for _, t := range run {
		if tok := h.Requests[t.req].TokenSent; !slices.Contains(tokens, tok) {
			tokens = append(tokens, tok)
		}
	}
	for _, tok := range tokens {
		f := tokenFork{token: tok}
		var providers []string
		for _, t := range run {
			r := &h.Requests[t.req]
			if r.TokenSent != tok || slices.ContainsFunc(f.accepts, func(a *history.Request) bool { return a.TokenReceived == r.TokenReceived }) {
				continue
			}
			f.accepts = append(f.accepts, r)
			if r.Provider != "" && !slices.Contains(providers, r.Provider) {
				providers = append(providers, r.Provider)
			}
		}
		if len(providers) >= 2 {
			out = append(out, f)
		}
	}
	return out
}

// followBranches collects, per acceptance of each forked token, every token
// descended from its successor and the accepted requests that presented
// them, in one pass over the history (a token is presented after the
// answer that set it was recorded).
func followBranches(h *history.History, forks []tokenFork) [][]branch {
	out := make([][]branch, len(forks))
	type at struct{ fork, branch int }
	owner := map[string]at{}
	forked := map[string]bool{}
	for k, f := range forks {
		forked[f.token] = true
		out[k] = make([]branch, len(f.accepts))
		for j, a := range f.accepts {
			out[k][j] = branch{accept: a, tokens: map[string]bool{a.TokenReceived: true}}
			owner[a.TokenReceived] = at{k, j}
		}
	}
	if len(owner) == 0 {
		return out
	}
	for i := range h.Requests {
		r := &h.Requests[i]
		if !rotated(r) {
			continue
		}
		o, ok := owner[r.TokenSent]
		if !ok {
			continue
		}
		b := &out[o.fork][o.branch]
		b.reqs = append(b.reqs, r)
		if _, taken := owner[r.TokenReceived]; !taken && !forked[r.TokenReceived] {
			owner[r.TokenReceived] = o
			b.tokens[r.TokenReceived] = true
		}
	}
	return out
}

// healOf is when the partition the fork happened in healed: the end of the
// first partition window that overlaps one of its acceptances, or, for a
// fork outside any partition, the end of its last acceptance. false when
// that partition never healed.
func healOf(f tokenFork, parts []window) (time.Time, bool) {
	var last time.Time
	for _, a := range f.accepts {
		if j := overlapping(parts, a); j >= 0 {
			return parts[j].to, !parts[j].to.IsZero()
		}
		if end := a.Start.Add(a.Latency); end.After(last) {
			last = end
		}
	}
	return last, true
}

// liveAfter returns the first request accepted after t of each branch that
// had one.
func liveAfter(branches []branch, t time.Time) []*history.Request {
	var out []*history.Request
	for _, b := range branches {
		for _, r := range b.reqs {
			if r.Start.After(t) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// sessionDiffs are the sessions rows both masters hold with different
// secrets of one session (same sid: a collision of two sessions on one
// primary key is auto-increment's business, not a fork).
func sessionDiffs(db *history.DBState) []sessionDiff {
	if db == nil {
		return nil
	}
	var out []sessionDiff
	for i := range db.RowDiffs {
		d := &db.RowDiffs[i]
		if d.Table != "sessions" || d.Missing != "" {
			continue
		}
		sd := sessionDiff{d: d}
		ok, other := false, false
		for _, c := range d.Columns {
			switch c.Name {
			case "secret":
				sd.secret, ok = [2]string{c.A, c.B}, true
			case "gen":
				sd.genDiffers = true
			case "sid", "tenant", "user":
				other = true
			}
		}
		if ok && !other {
			out = append(out, sd)
		}
	}
	return out
}

// matchDiff finds the sessions row whose secrets belong to the fork's
// branches and says, per side, which branch's acceptance it holds (nil:
// none of them, e.g. the token before the fork).
func matchDiff(diffs []sessionDiff, branches []branch) (*sessionDiff, [2]*history.Request) {
	for i := range diffs {
		var owner [2]*history.Request
		found := false
		for s, secret := range diffs[i].secret {
			for _, b := range branches {
				if holdsSecret(b.tokens, secret) {
					owner[s], found = b.accept, true
					break
				}
			}
		}
		if found {
			diffs[i].matched = true
			return &diffs[i], owner
		}
	}
	return nil, [2]*history.Request{}
}

// markMatched marks the rows of the fork's branches as explained.
func markMatched(diffs []sessionDiff, branches []branch) {
	for i := range diffs {
		for _, secret := range diffs[i].secret {
			for _, b := range branches {
				if holdsSecret(b.tokens, secret) {
					diffs[i].matched = true
				}
			}
		}
	}
}

// holdsSecret reports whether one of tokens ends with secret (the fake
// provider's token is <sid>.<gen>.<secret>).
func holdsSecret(tokens map[string]bool, secret string) bool {
	if len(secret) < minSecret {
		return false
	}
	for t := range tokens {
		if strings.HasSuffix(t, secret) {
			return true
		}
	}
	return false
}

// issuedBySecret maps the last dot-separated part of every token received
// to the first request that received it.
func issuedBySecret(h *history.History) map[string]*history.Request {
	out := map[string]*history.Request{}
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.TokenReceived == "" {
			continue
		}
		secret := r.TokenReceived[strings.LastIndexByte(r.TokenReceived, '.')+1:]
		if len(secret) >= minSecret && out[secret] == nil {
			out[secret] = r
		}
	}
	return out
}

func issuedNote(base time.Time, r *history.Request) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf(" given to %s by %s at %s", userOf(r), r.Provider, offset(base, r.Start))
}

// sessionsEqual reports whether both masters ended with equal sessions
// tables: equal checksums, or, in a history without them, converged.
func sessionsEqual(db *history.DBState) bool {
	var sums []int64
	for i := range db.Sides {
		s := &db.Sides[i]
		if !s.Reachable {
			return false
		}
		if v, ok := s.Checksums["sessions"]; ok {
			sums = append(sums, v)
		}
	}
	if len(sums) == 0 {
		return db.Converged && len(db.Sides) >= 2
	}
	return len(sums) >= 2 && len(sums) == len(db.Sides) && !slices.ContainsFunc(sums, func(v int64) bool { return v != sums[0] })
}

func sessionsSums(db *history.DBState) string {
	parts := make([]string, 0, len(db.Sides))
	for i := range db.Sides {
		s := &db.Sides[i]
		v, ok := s.Checksums["sessions"]
		parts = append(parts, s.Name+"="+sum(v, ok))
	}
	return "checksums " + strings.Join(parts, ", ")
}

// conflictingAcks returns, per message id, the first pair of
// acknowledgements by different providers for different senders.
func conflictingAcks(h *history.History) [][2]*history.Request {
	byID := map[string][]*history.Request{}
	var ids []string
	for i := range h.Requests {
		r := &h.Requests[i]
		if !acked(r) || r.Provider == "" {
			continue
		}
		if byID[r.MessageID] == nil {
			ids = append(ids, r.MessageID)
		}
		byID[r.MessageID] = append(byID[r.MessageID], r)
	}
	var out [][2]*history.Request
	for _, id := range ids {
		acks := byID[id]
	pairs:
		for i, a := range acks {
			for _, b := range acks[i+1:] {
				if a.Provider != b.Provider && userOf(a) != userOf(b) {
					out = append(out, [2]*history.Request{a, b})
					break pairs
				}
			}
		}
	}
	return out
}

// userOf is whose session a request used: the session user the answer
// named, else the simulated user.
func userOf(r *history.Request) string {
	if r.SessionUser != "" {
		return r.SessionUser
	}
	if r.User != "" {
		return r.User
	}
	return "a client"
}

// forkWitness names the forked token, each acceptance (provider, time,
// successor) and the partition it happened in.
func forkWitness(base time.Time, f tokenFork, parts []window) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: token %s accepted", userOf(f.accepts[0]), prefix(f.token))
	for k, a := range f.accepts {
		if k > 0 {
			b.WriteString(" and")
		}
		fmt.Fprintf(&b, " by %s at %s (#%d → %s)", a.Provider, offset(base, a.Start), a.Seq, tail(a.TokenReceived))
	}
	j := -1
	for _, a := range f.accepts {
		if j = overlapping(parts, a); j >= 0 {
			break
		}
	}
	switch {
	case j < 0:
		b.WriteString(", outside any partition")
	case parts[j].to.IsZero():
		fmt.Fprintf(&b, " during the partition from %s (never healed)", offset(base, parts[j].from))
	default:
		fmt.Fprintf(&b, " during the partition %s–%s", offset(base, parts[j].from), offset(base, parts[j].to))
	}
	return b.String()
}

func liveWitness(base time.Time, live []*history.Request) string {
	parts := make([]string, len(live))
	for i, r := range live {
		parts[i] = fmt.Sprintf("%s accepted %s at %s (#%d)", r.Provider, tail(r.TokenSent), offset(base, r.Start), r.Seq)
	}
	return strings.Join(parts, ", ")
}

func holder(owner *history.Request, secret string) string {
	if owner == nil {
		return "a token of neither branch (secret " + tail(secret) + ")"
	}
	return fmt.Sprintf("%s's branch (secret %s)", owner.Provider, tail(secret))
}

func providersOf(rs []*history.Request) string {
	var ps []string
	for _, r := range rs {
		if !slices.Contains(ps, r.Provider) {
			ps = append(ps, r.Provider)
		}
	}
	return strings.Join(ps, " and ")
}

// tail shortens a token or secret to its end: the successors of one
// token share its beginning (the session id).
func tail(s string) string {
	if len(s) <= 8 {
		return s
	}
	return "…" + s[len(s)-8:]
}

// plural is "1 fork" or "3 forks".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
