package scenarios

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// switchDelay is the operator's reaction time in the drill: the seed's
// minimum-redundancy setup switches to the slave by hand.
const switchDelay = time.Second

// MinimumRedundancyDrill is the seed's cheap start-up setup: a master
// provider and a slave provider with one-way replication. The master dies;
// the harness performs the manual switch and measures how long users were
// down (RTO) and how many acknowledged writes the slave lacks (RPO).
func MinimumRedundancyDrill() Scenario {
	return Scenario{
		Name:          "minimum-redundancy-drill",
		Description:   "Master provider 1 (master A) with slave provider 2 (master B replicating one way). Provider 1 and its database die; after 1 s the operator switches to the slave. Measures RTO and RPO.",
		NeedsDatabase: true,
		Duration:      8 * time.Second,
		Lab:           func(o *harness.Options) { o.DB.OneWay = true },
		Invariants: []string{check.NameStickiness, check.NameSessionContinuity, check.NameFailover,
			check.NameCookieIsolation, check.NameNoLostWrites, check.NameClearing},
		Bounds: func(b *check.Bounds) {
			b.WriteSides = []string{"b"}
			b.MaxRecovery = 4 * time.Second
		},
		ConvergeBound: time.Second,
		EndsDegraded:  true, // the master stays dead: the switch is the recovery
		Prepare:       standbySlave,
		Drill:         minimumRedundancy,
	}
}

// standbySlave takes the slave provider out of the balancer's service
// before any user arrives: it gets no traffic until the manual switch.
func standbySlave(ctx context.Context, lab *harness.Lab) error {
	for _, l := range lab.BalancerLinks("p2") {
		if err := lab.CutLink(l); err != nil {
			return err
		}
	}
	return lab.WaitProvider(ctx, "p2", false, 10*time.Second)
}

func minimumRedundancy(ctx context.Context, d *DrillEnv) (map[string]float64, error) {
	lab, pair := d.Lab, d.Lab.Pair()
	if pair == nil {
		return nil, errors.New("the drill needs the MariaDB pair")
	}
	standby := lab.BalancerLinks("p2")
	if !sleepUntil(ctx, d.Start.Add(2*time.Second)) {
		return nil, nil
	}
	down := time.Now()
	f := history.Fault{Name: "master-down", Target: "p1+db-a", Provider: "p1", Injected: down, ProviderFault: true, DatabaseFault: true}
	var errs []error
	if err := lab.CrashProvider(ctx, "p1"); err != nil {
		errs = append(errs, err)
	}
	if err := pair.Kill(ctx, "a"); err != nil {
		errs = append(errs, err)
	}
	id := d.Recorder.Fault(f)
	sleepUntil(ctx, down.Add(switchDelay))

	// The manual switch: promote the slave's database, then send traffic to it.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := pair.StopReplica(sctx, "b"); err != nil {
		errs = append(errs, fmt.Errorf("promote master B: %w", err))
	}
	for _, l := range standby {
		if err := lab.RestoreLink(l); err != nil {
			errs = append(errs, err)
		}
	}
	switched := time.Now()
	_ = d.Recorder.Recovered(id, switched, "")
	<-ctx.Done() // the load ends

	h := d.Recorder.History()
	m := map[string]float64{"switch_seconds": switched.Sub(down).Seconds()}
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.Start.After(down) && r.OK() && r.Provider == "p2" && r.Op != history.OpRedirect && r.Op != history.OpTLS {
			m["rto_seconds"] = r.Start.Add(r.Latency).Sub(down).Seconds()
			break
		}
	}
	ids, err := pair.MessageIDs(sctx, "b")
	if err != nil {
		errs = append(errs, fmt.Errorf("read master B's messages: %w", err))
	} else {
		on := stripTenant(ids)
		lost := 0
		for i := range h.Requests {
			r := &h.Requests[i]
			if r.Op == history.OpSend && (r.Status == 200 || r.Status == 201) && r.Start.Before(down) && on[r.MessageID] == 0 {
				lost++
			}
		}
		m["rpo_writes"] = float64(lost)
	}
	return m, errors.Join(errs...)
}
