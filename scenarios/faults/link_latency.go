package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// LinkLatency delays what crosses a link by Latency ± Jitter (uniform;
// the knob is latency_jitter, since jitter is the schedule's own knob of
// every --fault step),
// in Direction: response (default: every answer arrives late, once per
// exchange), request, or both (twice per exchange). Link picks the wires
// as for link-cut. Slow is not down: on the wires it excuses nothing.
//
// On link=replication both masters apply the other's writes Latency late
// (MASTER_DELAY, whole seconds rounded up; replication-delay on both
// sides); Jitter must be 0 there and Direction is not used.
type LinkLatency struct {
	Provider  string        `fault:"provider"`
	Link      string        `fault:"link"`
	Clearing  int           `fault:"clearing"`
	Latency   time.Duration `fault:"latency"`
	Jitter    time.Duration `fault:"latency_jitter"`
	Direction string        `fault:"direction"`
}

const latencyToxic = "link-latency"

func (f LinkLatency) w() wires     { return wires{f.Link, f.Provider, f.Clearing} }
func (f LinkLatency) Name() string { return "link-latency" }
func (f LinkLatency) Target() string {
	d := f.Latency.String()
	if f.Jitter > 0 {
		d += " ± " + f.Jitter.String()
	}
	if f.w().class() == LinkReplication {
		return describe(f.w().target(), d)
	}
	return describe(f.w().target(), d, f.Direction)
}
func (f LinkLatency) Kind() Kind { return f.w().kind(false) }

// Validate refuses knobs that name no wires and latencies that are none.
func (f LinkLatency) Validate() error {
	if err := f.w().validate(); err != nil {
		return err
	}
	if f.Latency <= 0 {
		return fmt.Errorf("latency=%s: want more than 0", f.Latency)
	}
	if f.Jitter < 0 || f.Jitter > f.Latency {
		return fmt.Errorf("latency_jitter=%s: want 0 up to the latency %s", f.Jitter, f.Latency)
	}
	if f.w().class() == LinkReplication {
		if f.Jitter != 0 {
			return fmt.Errorf("latency_jitter=%s on link=replication: MASTER_DELAY is a fixed delay", f.Jitter)
		}
		return nil
	}
	_, err := streams(f.Direction)
	return err
}

// NeedsDatabase: the database and replication links need the pair.
func (f LinkLatency) NeedsDatabase() bool { return f.w().needsDatabase() }

func (f LinkLatency) Inject(ctx context.Context, env Env) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.w().class() == LinkReplication {
		return f.delayReplicas(ctx, env, f.Latency)
	}
	attrs := map[string]any{"latency": f.Latency.Milliseconds(), "jitter": f.Jitter.Milliseconds()}
	if err := addToxics(env, f.w(), latencyToxic, f.Direction, "latency", attrs); err != nil {
		return fmt.Errorf("delay %s: %w", f.Target(), err)
	}
	return nil
}

func (f LinkLatency) Recover(ctx context.Context, env Env) error {
	if f.Validate() != nil {
		return nil // Inject refused it: nothing to mend
	}
	if f.w().class() == LinkReplication {
		return f.delayReplicas(ctx, env, 0)
	}
	if err := removeToxics(ctx, env, f.w(), latencyToxic, f.Direction); err != nil {
		return fmt.Errorf("end the delay on %s: %w", f.Target(), err)
	}
	return nil
}

// delayReplicas sets MASTER_DELAY on both masters, both also after an
// error on the first.
func (f LinkLatency) delayReplicas(ctx context.Context, env Env, d time.Duration) error {
	return withDB(env, fmt.Sprintf("delay replication by %s", d), func(db DB) error {
		return eachLink([]string{"a", "b"}, func(side string) error { return db.SetReplicationDelay(ctx, side, d) })
	})
}

// Bit: the requests through the wires inside the window took about the
// latency longer (half of it at the median); on replication the lag grew
// to half the delay.
func (f LinkLatency) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return f.w().slowedBit(h, rec, f.Latency/2, false)
}

func init() {
	register(Entry{Name: "link-latency", Summary: "delays a link by latency ± latency_jitter; link=balancer (default), database, clearing or replication (MASTER_DELAY on both masters)",
		New: func() Fault {
			return &LinkLatency{Provider: "p1", Link: LinkBalancer, Latency: 300 * time.Millisecond, Direction: dirResponse}
		}})
}
