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
)

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

const lagEvery = 500 * time.Millisecond

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

// finalState reads what the invariants need after load and faults ended:
// the clearing services' records and, with a database pair, convergence,
// replica state, checksums and the messages on each master.
func finalState(ctx context.Context, lab *harness.Lab, lag []history.LagSample, bound time.Duration, backends bool) (history.Final, error) {
	final := history.Final{Lag: lag, Clearing: &history.ClearingState{Cleared: stripTenant(lab.Cleared())}}
	if backends {
		final.Balancer = backendsBack(ctx, lab, bound)
	}
	pair := lab.Pair()
	if pair == nil {
		return final, nil
	}
	db, err := pair.Observer().Final(ctx, dbobserve.FinalOptions{
		Converge: dbobserve.ConvergeOptions{Tables: checkedTables, Bound: bound, Applied: true},
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

// maxRowDiffs bounds the rows of a divergence kept as its witness.
const maxRowDiffs = 10

// backendsBack waits, up to bound, until the balancer has every backend in
// service again: every fault has been recovered by now, so a backend still
// out means a provider that never came back (a lab that stays degraded).
func backendsBack(ctx context.Context, lab *harness.Lab, bound time.Duration) *history.BalancerState {
	start := time.Now()
	down := lab.WaitBackendsUp(ctx, bound)
	return &history.BalancerState{Down: down, Waited: time.Since(start)}
}

// stripTenant turns tenant/id keys into ids: the load's message ids are
// unique across tenants, and the history names messages by id.
func stripTenant(in map[string]int) map[string]int {
	out := make(map[string]int, len(in))
	for k, n := range in {
		if i := strings.IndexByte(k, '/'); i >= 0 {
			k = k[i+1:]
		}
		out[k] += n
	}
	return out
}

// topology describes the lab for the report's drawing.
func topology(lab *harness.Lab, users int) *reports.Topology {
	o := lab.Options()
	t := &reports.Topology{Mode: o.Mode, Balancer: "built-in (regify-verify lb)"}
	if len(o.Plan.Clients) > 0 {
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
