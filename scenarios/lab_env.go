package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/faults"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// labEnv is the built-in lab as an Environment.
type labEnv struct {
	lab *harness.Lab
}

// LabOpener brings up a fresh lab per scenario from base, changed by the
// scenario (database pair, broken modes, TLS mode) and sized for its users.
func LabOpener(base harness.Options) Opener {
	return func(ctx context.Context, sc Scenario, users int) (Environment, error) {
		opts := base
		// Provider containers share their state only through the pair.
		if sc.NeedsDatabase || opts.Nodes == harness.NodesContainers {
			opts.Database = harness.DatabasePair
		}
		if sc.Lab != nil {
			sc.Lab(&opts)
		}
		if len(opts.Plan.Domains) == 0 || len(opts.Plan.Clients) < users {
			p, err := harness.DefaultPlan(users, false)
			if err != nil {
				return nil, fmt.Errorf("plan a lab for %d users: %w", users, err)
			}
			opts.Plan = p
		}
		lab, err := harness.Up(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("bring up the lab for %s: %w", sc.Name, err)
		}
		return &labEnv{lab: lab}, nil
	}
}

func (e *labEnv) Meta() history.Meta {
	o := e.lab.Options()
	m := history.Meta{Mode: o.Mode, Providers: o.Plan.ProviderIDs(), ProviderShowsSeen: true}
	for _, ep := range e.lab.Endpoints() {
		m.Domains = append(m.Domains, history.Domain{Name: ep.Name, PublicIP: ep.PublicIP.String(), HTTPS: ep.HTTPS, HTTP: ep.HTTP})
	}
	return m
}

func (e *labEnv) Load(users int) load.Config {
	o := e.lab.Options()
	return load.Config{
		Users: users, SourceIPs: o.Plan.Clients[:users], Domains: e.Meta().Domains,
		Password: o.Password, CA: e.lab.Roots(), Timeout: ClientTimeout,
	}
}

func (e *labEnv) Sink(rec *history.Recorder) load.Sink { return rec }

// CAPEM is the lab's CA, for load agents.
func (e *labEnv) CAPEM() []byte { return e.lab.CAPEM() }

func (e *labEnv) Faults() faults.Env { return faultLab{e.lab} }

// Probe replays a stolen, outdated cookie once; with a pair it first waits
// until the victim's rotation has replicated.
func (e *labEnv) Probe(ctx context.Context, lcfg load.Config, sink load.Sink) error {
	if pair := e.lab.Pair(); pair != nil {
		lcfg.ReplayBarrier = func(ctx context.Context) error {
			return pair.WaitConverged(ctx, []string{"sessions"}, replayBarrierBound)
		}
	}
	if err := load.ProbeReplay(ctx, lcfg, sink); err != nil {
		return fmt.Errorf("replay probe: %w", err)
	}
	return nil
}

func (e *labEnv) Watch(ctx context.Context) []history.LagSample {
	pair := e.lab.Pair()
	if pair == nil {
		<-ctx.Done()
		return nil
	}
	var s lagSampler
	s.run(ctx, pair)
	return s.samples()
}

func (e *labEnv) Close(ctx context.Context) error { return e.lab.Close(ctx) }

// faultLab lets faults act on the harness's lab.
type faultLab struct{ *harness.Lab }

func (f faultLab) Database() (faults.DB, error) {
	if p := f.Lab.Pair(); p != nil {
		return p, nil
	}
	return nil, errors.New("this lab runs on the in-memory store, not a MariaDB pair (the scenario must set NeedsDatabase)")
}

// lagSampler measures replication lag both ways while the load runs.
type lagSampler struct {
	mu  sync.Mutex
	got []history.LagSample
}

func (s *lagSampler) run(ctx context.Context, pair *harness.Pair) {
	t := time.NewTicker(lagEvery)
	defer t.Stop()
	obs := pair.Observer()
	for {
		for _, side := range dbobserve.Sides {
			mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			smp := obs.Sample(mctx, side)
			cancel()
			if ctx.Err() != nil {
				return
			}
			s.mu.Lock()
			s.got = append(s.got, smp)
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *lagSampler) samples() []history.LagSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]history.LagSample(nil), s.got...)
}

// Final reads what the invariants need after load and faults ended: the
// clearing services' records, the balancer's backends and, with a database
// pair, convergence, replica state, checksums and the messages on each
// master.
func (e *labEnv) Final(ctx context.Context, s FinalSpec) (history.Final, error) {
	lab, bound := e.lab, s.ConvergeBound
	cleared, err := lab.Cleared(ctx)
	if err != nil {
		return history.Final{Lag: s.Lag}, err
	}
	final := history.Final{Lag: s.Lag, Clearing: &history.ClearingState{Cleared: StripTenant(cleared)}}
	if s.Backends {
		final.Balancer = backendsBack(ctx, lab, bound)
	}
	pair := lab.Pair()
	if pair == nil {
		return final, nil
	}
	db, err := pair.Observer().Final(ctx, dbobserve.FinalOptions{
		Converge: dbobserve.ConvergeOptions{Tables: checkedTables, Bound: bound, Applied: true,
			// The load ended and the faults are recovered: a replica
			// stopped now stays so, and masters that applied each
			// other's writes and still differ stay apart.
			GiveUpWhenStopped: true, GiveUpWhenSettled: true, OneWay: lab.Options().DB.OneWay},
		Messages: harness.ProviderMessages(false),
		RowDiffs: maxRowDiffs,
		OneWay:   lab.Options().DB.OneWay,
	})
	if err != nil {
		return final, err
	}
	final.DB = db
	return final, nil
}

// backendsBack waits, up to bound, until the balancer has every backend in
// service again: every fault has been recovered by now, so a backend still
// out means a provider that never came back (a lab that stays degraded).
func backendsBack(ctx context.Context, lab *harness.Lab, bound time.Duration) *history.BalancerState {
	start := time.Now()
	down := lab.WaitBackendsUp(ctx, bound)
	return &history.BalancerState{Down: down, Waited: time.Since(start)}
}

// StripTenant turns tenant/id keys into ids: the load's message ids are
// unique across tenants, and the history names messages by id.
func StripTenant(in map[string]int) map[string]int {
	out := make(map[string]int, len(in))
	for k, n := range in {
		if i := strings.IndexByte(k, '/'); i >= 0 {
			k = k[i+1:]
		}
		out[k] += n
	}
	return out
}

// Topology describes the lab for the report's drawing.
func (e *labEnv) Topology(users int) *reports.Topology {
	lab := e.lab
	o := lab.Options()
	t := &reports.Topology{Mode: o.Mode, Balancer: "built-in (regify-verify lb)", Nodes: o.Nodes}
	switch {
	case o.Nodes == harness.NodesContainers:
		// Every node a container on the lab network; the users are the
		// agents' (their addresses are listed with the agents), the
		// probes this machine's.
		t.Balancer = "built-in (regify-verify lb), a container"
		t.Clients = fmt.Sprintf("agent containers on %s; probes from %s", o.Network.Subnet, o.Network.Gateway)
	case len(o.Plan.Clients) > 0:
		t.Clients = fmt.Sprintf("%s-%s", o.Plan.Clients[0], o.Plan.Clients[users-1])
	}
	for _, e := range lab.Endpoints() {
		t.Domains = append(t.Domains, reports.TopoDomain{Name: e.Name, PublicIP: e.PublicIP.String(), HTTPS: e.HTTPS, HTTP: e.HTTP})
	}
	for _, p := range o.Plan.Providers {
		tp := reports.TopoProvider{ID: p.ID, Internal: map[string]string{}}
		for d, addr := range lab.Internal()[p.ID] {
			tp.Internal[d] = addr
		}
		t.Providers = append(t.Providers, tp)
	}
	if pair := lab.Pair(); pair != nil {
		for _, s := range []string{"a", "b"} {
			addr, err := pair.HostAddr(context.Background(), s)
			if err != nil {
				addr = "unknown"
			}
			t.Databases = append(t.Databases, reports.TopoNode{Name: "MariaDB " + strings.ToUpper(s), Address: addr})
		}
	} else {
		t.Databases = []reports.TopoNode{{Name: "shared in-memory store", Address: "in process"}}
	}
	for i, c := range lab.ClearingAddrs() {
		host, _, _ := net.SplitHostPort(c)
		t.Clearing = append(t.Clearing, reports.TopoNode{Name: fmt.Sprintf("clearing connection %d", i+1), Address: host})
	}
	return t
}
