package catalogue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// MinimumRedundancyDrill is the seed's cheap start-up setup: a master
// provider and a slave provider with one-way replication. The master dies;
// the harness performs the manual switch and measures how long users were
// down (RTO) and how many acknowledged writes the slave lacks (RPO).
func MinimumRedundancyDrill() scenarios.Scenario {
	return scenarios.Scenario{
		Name:          "minimum-redundancy-drill",
		Description:   "Master provider 1 (master A) with slave provider 2 (master B replicating one way). Provider 1 and its database die; after 1 s the operator switches to the slave. Measures RTO and RPO.",
		Requires:      []string{check.NameFailover, check.NameNoLostWrites},
		NeedsDatabase: true,
		Disruptive:    true,
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

// switchDelay is the operator's reaction time in the drill: the seed's
// minimum-redundancy setup switches to the slave by hand.
const switchDelay = time.Second

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

func minimumRedundancy(ctx context.Context, d *scenarios.DrillEnv) (map[string]float64, error) {
	pair := d.Lab.Pair()
	if pair == nil {
		return nil, errors.New("the drill needs the MariaDB pair")
	}
	if !scenarios.SleepUntil(ctx, d.Start.Add(2*time.Second)) {
		return nil, nil
	}
	var errs []error
	down, err := d.Inject(ctx, faults.MasterDown{Provider: "p1", Side: "a", Standby: "p2", StandbySide: "b"})
	if err != nil {
		errs = append(errs, err)
	}
	scenarios.SleepUntil(ctx, down.At.Add(switchDelay))
	// The manual switch (the fault's recovery): promote the slave's
	// database, then send traffic to it.
	if err := d.Recover(ctx, down); err != nil {
		errs = append(errs, err)
	}
	switched := time.Now()
	<-ctx.Done() // the load ends

	h := d.History()
	m := map[string]float64{"switch_seconds": switched.Sub(down.At).Seconds()}
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.Start.After(down.At) && r.OK() && r.Provider == "p2" && r.Op != history.OpRedirect && r.Op != history.OpTLS {
			m["rto_seconds"] = r.Start.Add(r.Latency).Sub(down.At).Seconds()
			break
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	ids, err := pair.MessageIDs(sctx, "b")
	if err != nil {
		errs = append(errs, fmt.Errorf("read master B's messages: %w", err))
	} else {
		on := scenarios.StripTenant(ids)
		lost := 0
		for i := range h.Requests {
			r := &h.Requests[i]
			if r.Op == history.OpSend && (r.Status == 200 || r.Status == 201) && r.Start.Before(down.At) && on[r.MessageID] == 0 {
				lost++
			}
		}
		m["rpo_writes"] = float64(lost)
	}
	return m, errors.Join(errs...)
}

func init() { register(180, MinimumRedundancyDrill) }
