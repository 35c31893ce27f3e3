package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// errStopped ends the attack from the targeter when the run is cancelled.
var errStopped = errors.New("load: run stopped")

// Run drives cfg.Users simulated users against cfg.Domains and adds every
// request to sink. It returns nil when Duration or MaxRequests ended the run
// and the cause when ctx was cancelled.
func Run(ctx context.Context, cfg Config, sink Sink) error {
	return run(ctx, cfg, sink, nil)
}

// run is Run with a replaceable per-user transport (benchmarks use a stub).
func run(ctx context.Context, cfg Config, sink Sink, newRT func(*Config, *user) http.RoundTripper) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	users, err := newUsers(&cfg, newRT)
	if err != nil {
		return err
	}
	defer func() {
		for _, u := range users {
			if t, ok := u.rt.(interface{ CloseIdleConnections() }); ok {
				t.CloseIdleConnections()
			}
		}
	}()
	rt := &router{ctx: ctx, users: users, sink: sink, flow: cfg.Flow, stats: cfg.Counters, log: cfg.Logger}

	workers := uint64(min(cfg.Users, 16))
	atk := vegeta.NewAttacker(
		// Client must come first: it replaces the whole client. Only options
		// that do not type-assert *http.Transport may follow.
		vegeta.Client(&http.Client{Transport: rt}),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.Timeout(cfg.Timeout),
		vegeta.Workers(workers),
		vegeta.MaxWorkers(maxWorkers(cfg)),
		vegeta.MaxBody(0), // the round tripper has kept what matters
	)
	stopWatch := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stopWatch()

	cfg.Logger.Debug("load starting", "users", cfg.Users, "rate", cfg.Rate, "duration", cfg.Duration,
		"max_requests", cfg.MaxRequests, "seed", cfg.Seed)
	began := time.Now()
	if cfg.OnStart != nil {
		cfg.OnStart()
	}
	rt.sched = newSchedule(cfg.Seed, cfg.Rate, began)
	var hits, stopped uint64
	// Arrivals still waiting for their user when the load's time is up are
	// dropped: the run ends on time however far a stalled user fell behind.
	waitCtx, stopWaiting := ctx, context.CancelFunc(func() {})
	if cfg.Duration > 0 {
		waitCtx, stopWaiting = context.WithDeadline(ctx, began.Add(cfg.Duration))
	}
	defer stopWaiting()
	for res := range atk.Attack(rt.targeter(waitCtx), pacer(cfg.Rate, cfg.MaxRequests), cfg.Duration, "regify-verify") {
		if res.Error == errStopped.Error() {
			stopped++
			continue
		}
		hits++
	}
	if cfg.Arrivals != nil {
		cfg.Arrivals.Offered, cfg.Arrivals.Dropped = rt.sched.count(), int64(stopped)
	}
	s := cfg.Counters.Snapshot()
	cfg.Logger.Debug("load finished", "hits", hits, "elapsed", time.Since(began),
		"requests", s.Requests, "errors", s.Errors, "targeter_stops", stopped)
	if ctx.Err() != nil {
		return fmt.Errorf("load: stopped after %d requests: %w", hits, context.Cause(ctx))
	}
	return nil
}

// maxWorkers bounds vegeta's workers. Paced, an arrival whose user is busy
// holds a worker while it waits, so there must be enough workers for every
// arrival due within a request's timeout (plus a margin) or the schedule
// itself would slow down — the coordinated omission this avoids. Unpaced,
// a few arrivals per user keep every user busy however the draw falls.
func maxWorkers(cfg Config) uint64 {
	if cfg.Rate <= 0 {
		return uint64(4 * cfg.Users)
	}
	n := cfg.Rate * int((cfg.Timeout+2*time.Second)/time.Second)
	return uint64(min(max(n, cfg.Users), 4096))
}

// boundedPacer paces like its ConstantPacer and stops after max hits (0: no
// bound).
type boundedPacer struct {
	vegeta.ConstantPacer
	max uint64
}

// Pace implements vegeta.Pacer.
func (p boundedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.max > 0 && hits >= p.max {
		return 0, true
	}
	return p.ConstantPacer.Pace(elapsed, hits)
}

// pacer paces at rate hits per second (0: unpaced) and stops after max hits
// (0: no bound).
func pacer(rate int, max uint64) vegeta.Pacer {
	return boundedPacer{ConstantPacer: vegeta.ConstantPacer{Freq: rate, Per: time.Second}, max: max}
}

// newUsers builds every simulated user with its plan, jar and transport.
func newUsers(cfg *Config, newRT func(*Config, *user) http.RoundTripper) ([]*user, error) {
	users := make([]*user, cfg.Users)
	all := cfg.AllUsers
	if all == 0 {
		all = cfg.Users
	}
	for i := range users {
		g := cfg.FirstUser + i // the user's place in the whole load
		d := cfg.Domains[g%len(cfg.Domains)]
		base, err := baseURL(d.HTTPS, "https")
		if err != nil {
			return nil, fmt.Errorf("load: user %d: %w", i, err)
		}
		base.Path = strings.TrimSuffix(base.Path, "/")
		pl := newFlowPlan(cfg.Seed, g, all, cfg.Flow, cfg.Flow.account(g, cfg.Password), cfg.Mix)
		u := &user{
			idx:    i,
			name:   userName(g),
			domain: d,
			base:   base,
			source: cfg.SourceIPs[i],
			plan:   pl,
			jar:    newJar(),
			turns:  newTurns(),
		}
		if newRT != nil {
			u.rt = newRT(cfg, u)
		} else {
			u.rt = newUserTransport(cfg, u.source)
		}
		users[i] = u
	}
	return users, nil
}

// targeter hands out the next arrival of the schedule: its user's next
// step, once that user has finished its previous request (a worker never
// gets a user with a request in flight). The wait is recorded: the request
// carries the time it was scheduled.
func (r *router) targeter(ctx context.Context) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		if ctx.Err() != nil {
			return errStopped
		}
		due, i := r.sched.next(len(r.users))
		u := r.users[i]
		if !u.turns.wait(ctx, u.turns.ticket()) {
			return errStopped
		}
		st := u.plan.next()
		u.cur, u.due = st, due
		url, err := target(u.base, st.path, nil)
		if err != nil {
			u.turns.done() // no request will end this turn
			return fmt.Errorf("load: %s: %w", u.name, err)
		}
		t.Method = st.method
		t.URL = url
		t.Header = http.Header{UserHeader: {strconv.Itoa(u.idx)}}
		for k, vs := range st.header {
			t.Header[k] = vs
		}
		if st.form != nil {
			t.Body = []byte(st.form.Encode())
			t.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			t.Body = nil
		}
		return nil
	}
}
