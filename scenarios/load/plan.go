package load

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"

	"github.com/regify-verify/regify-verify/history"
)

// step is one request of a user's workflow.
type step struct {
	op     history.Op
	method string
	path   string
	form   url.Values // nil for requests without a body
	msgID  string
}

// plan decides a user's next step. Its choices come from a source seeded by
// the run's seed and the user's index, so a user does the same thing in every
// run with the same seed, given the same answers. A plan is used by one
// goroutine at a time (see the package comment).
type plan struct {
	name     string
	password string
	idPrefix string
	users    int // for choosing recipients
	mix      Mix
	paths    Paths
	rng      *rand.Rand

	loggedIn bool
	pending  *step    // a send that was not acknowledged: retried with the same id
	sent     []string // acknowledged message ids, for reads
	nSent    int
}

// userName is the id of simulated user i.
func userName(i int) string { return fmt.Sprintf("u%03d", i+1) }

func newPlan(seed int64, user, users int, password string, mix Mix) *plan {
	return &plan{
		name:     userName(user),
		password: password,
		idPrefix: fmt.Sprint(seed),
		users:    users,
		mix:      mix,
		paths:    DefaultPaths,
		rng:      rand.New(rand.NewPCG(uint64(seed), uint64(user))),
	}
}

// next returns the user's next step.
func (p *plan) next() step {
	if !p.loggedIn {
		return step{op: history.OpLogin, method: http.MethodPost, path: p.paths.Login,
			form: url.Values{"user": {p.name}, "password": {p.password}}}
	}
	if p.pending != nil {
		return *p.pending
	}
	total := p.mix.total()
	if total <= 0 {
		return step{op: history.OpInbox, method: http.MethodGet, path: p.paths.Inbox}
	}
	r := p.rng.IntN(total)
	switch {
	case r < p.mix.Inbox:
		return step{op: history.OpInbox, method: http.MethodGet, path: p.paths.Inbox}
	case r < p.mix.Inbox+p.mix.Send:
		p.nSent++
		id := fmt.Sprintf("%s-%s-%d", p.idPrefix, p.name, p.nSent)
		to := userName(p.rng.IntN(p.users))
		s := step{op: history.OpSend, method: http.MethodPost, path: "/messages", msgID: id,
			form: url.Values{"id": {id}, "to": {to}, "body": {"message " + id + " from " + p.name}}}
		p.pending = &s
		return s
	case r < p.mix.Inbox+p.mix.Send+p.mix.Read:
		if len(p.sent) == 0 {
			return step{op: history.OpInbox, method: http.MethodGet, path: p.paths.Inbox}
		}
		id := p.sent[p.rng.IntN(len(p.sent))]
		return step{op: history.OpRead, method: http.MethodGet, path: "/messages/" + id, msgID: id}
	default:
		return step{op: history.OpLogout, method: http.MethodPost, path: "/logout"}
	}
}

// done advances the plan by the outcome of s: status is 0 when no response
// arrived.
func (p *plan) done(s step, status int) {
	if status == http.StatusUnauthorized {
		p.loggedIn = false // log in again; a pending send is retried after
		return
	}
	switch s.op {
	case history.OpLogin:
		p.loggedIn = status == http.StatusOK
	case history.OpSend:
		if status == http.StatusOK || status == http.StatusCreated {
			p.sent = append(p.sent, s.msgID)
			p.pending = nil
		}
	case history.OpLogout:
		// Whatever the answer, the session is given up: the next turn logs in.
		p.loggedIn = false
	}
}
