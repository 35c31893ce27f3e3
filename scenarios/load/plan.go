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
	header http.Header
	msgID  string
	// def is the flow's step this one was made from; nil for the
	// contract's sends and reads.
	def *Step
}

// expect is what the step's answer must be.
func (s step) expect() Expect {
	if s.def != nil {
		return s.def.Expect
	}
	return Expect{}
}

// plan decides a user's next step. Its choices come from a source seeded by
// the run's seed and the user's index, so a user does the same thing in every
// run with the same seed, given the same answers. A plan is used by one
// goroutine at a time (see the package comment).
type plan struct {
	name     string
	idPrefix string
	users    int // for choosing recipients
	mix      Mix
	flow     *Flow
	rng      *rand.Rand

	// vars are the login's variables: user, password and what the steps
	// so far extracted.
	vars      map[string]string
	loginStep int // the next login step while logged out
	loggedIn  bool
	pending   *step    // a send that was not acknowledged: retried with the same id
	sent      []string // acknowledged message ids, for reads
	nSent     int
	// failure says why the user's last login failed ("" when it did not).
	failure string
}

// userName is the id of simulated user i.
func userName(i int) string { return fmt.Sprintf("u%03d", i+1) }

// newPlan is user's plan following the provider contract's flow.
func newPlan(seed int64, user, users int, password string, mix Mix) *plan {
	f := ContractFlow(DefaultPaths)
	return newFlowPlan(seed, user, users, &f, f.account(user, password), mix)
}

func newFlowPlan(seed int64, user, users int, f *Flow, acct Account, mix Mix) *plan {
	p := &plan{
		name:     userName(user),
		idPrefix: fmt.Sprint(seed),
		users:    users,
		mix:      mix,
		flow:     f,
		rng:      rand.New(rand.NewPCG(uint64(seed), uint64(user))),
		vars:     map[string]string{VarUser: acct.User, VarPassword: acct.Password},
	}
	if !f.Contract {
		// Sends and reads are the contract's; another application only
		// gets probes and logouts.
		p.mix = Mix{Inbox: mix.Inbox + mix.Send + mix.Read, Logout: mix.Logout}
	}
	if f.Logout == nil {
		p.mix.Inbox += p.mix.Logout
		p.mix.Logout = 0
	}
	return p
}

// fromFlow makes a step of the flow with the user's variables expanded.
func (p *plan) fromFlow(def *Step, op history.Op) step { return flowStep(def, op, p.vars) }

// flowStep is def with vars expanded in its path, form and headers.
func flowStep(def *Step, op history.Op, vars map[string]string) step {
	s := step{op: op, method: def.Method, path: expand(def.Path, vars), def: def}
	if def.Form != nil {
		s.form = url.Values{}
		for _, kv := range def.Form {
			s.form.Add(kv.Name, expand(kv.Value, vars))
		}
	}
	if len(def.Header) > 0 {
		s.header = http.Header{}
		for _, kv := range def.Header {
			s.header.Add(kv.Name, expand(kv.Value, vars))
		}
	}
	return s
}

// next returns the user's next step.
func (p *plan) next() step {
	if !p.loggedIn {
		return p.fromFlow(&p.flow.Login[p.loginStep], history.OpLogin)
	}
	if p.pending != nil {
		return *p.pending
	}
	probe := p.fromFlow(&p.flow.Probe, history.OpInbox)
	total := p.mix.total()
	if total <= 0 {
		return probe
	}
	r := p.rng.IntN(total)
	switch {
	case r < p.mix.Inbox:
		return probe
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
			return probe
		}
		id := p.sent[p.rng.IntN(len(p.sent))]
		return step{op: history.OpRead, method: http.MethodGet, path: "/messages/" + id, msgID: id}
	default:
		return p.fromFlow(p.flow.Logout, history.OpLogout)
	}
}

// done advances the plan by the answer to s.
func (p *plan) done(s step, a *answer) {
	if s.op != history.OpLogin && s.op != history.OpLogout && p.flow.LoggedOut.matches(a) {
		p.loggedIn, p.loginStep = false, 0 // log in again; a pending send is retried after
		return
	}
	switch s.op {
	case history.OpLogin:
		p.loginDone(s, a)
	case history.OpSend:
		if a.status == http.StatusOK || a.status == http.StatusCreated {
			p.sent = append(p.sent, s.msgID)
			p.pending = nil
		}
	case history.OpLogout:
		// Whatever the answer, the session is given up: the next turn logs in.
		p.loggedIn, p.loginStep = false, 0
	}
}

// loginDone advances the login by one step: on to the next when the answer
// is as expected and every variable was found, else back to the first.
func (p *plan) loginDone(s step, a *answer) {
	ok, why := s.expect().met(a)
	if ok {
		for _, x := range s.def.Extract {
			v, found := x.From.read(a)
			if !found {
				ok, why = false, fmt.Sprintf("%s not found in %s", x.Var, x.From)
				break
			}
			p.vars[x.Var] = v
		}
	}
	if !ok {
		p.failure = fmt.Sprintf("%s (%s %s): %s", s.def.Name, s.method, s.path, why)
		p.loginStep = 0
		return
	}
	p.loginStep++
	if p.loginStep == len(p.flow.Login) {
		p.loggedIn, p.loginStep, p.failure = true, 0, ""
	}
}
