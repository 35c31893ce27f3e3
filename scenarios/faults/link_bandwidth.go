package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// LinkBandwidth limits what crosses a link to Rate KB/s in Direction:
// response (default), request or both; a thin WAN line or a saturated
// uplink. Link picks the wires as for link-cut; the replication stream is
// no proxied wire and cannot be throttled. A throttled provider link is a
// Provider fault: answers that crawl may keep its clients waiting.
type LinkBandwidth struct {
	Provider  string `fault:"provider"`
	Link      string `fault:"link"`
	Clearing  int    `fault:"clearing"`
	Rate      int64  `fault:"rate"` // KB/s
	Direction string `fault:"direction"`
}

const bandwidthToxic = "link-bandwidth"

func (f LinkBandwidth) w() wires     { return wires{f.Link, f.Provider, f.Clearing} }
func (f LinkBandwidth) Name() string { return "link-bandwidth" }
func (f LinkBandwidth) Target() string {
	return describe(f.w().target(), fmt.Sprintf("%d KB/s", f.Rate), f.Direction)
}
func (f LinkBandwidth) Kind() Kind { return f.w().kind(true) }

// Validate refuses knobs that name no wires, the replication stream and a
// rate that limits nothing.
func (f LinkBandwidth) Validate() error {
	if err := f.w().validate(); err != nil {
		return err
	}
	if f.w().class() == LinkReplication {
		return errNoReplicationWire
	}
	if f.Rate <= 0 {
		return fmt.Errorf("rate=%d: want KB/s above 0", f.Rate)
	}
	_, err := streams(f.Direction)
	return err
}

// NeedsDatabase: the database link needs the pair.
func (f LinkBandwidth) NeedsDatabase() bool { return f.w().needsDatabase() }

func (f LinkBandwidth) Inject(ctx context.Context, env Env) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if err := addToxics(env, f.w(), bandwidthToxic, f.Direction, "bandwidth", map[string]any{"rate": f.Rate}); err != nil {
		return fmt.Errorf("throttle %s: %w", f.Target(), err)
	}
	return nil
}

func (f LinkBandwidth) Recover(ctx context.Context, env Env) error {
	if f.Validate() != nil {
		return nil // Inject refused it: nothing to mend
	}
	if err := removeToxics(ctx, env, f.w(), bandwidthToxic, f.Direction); err != nil {
		return fmt.Errorf("end the throttle on %s: %w", f.Target(), err)
	}
	return nil
}

// Bit: the requests through the wires inside the window were slower at
// the median (or, on a provider's wires, its clients were disrupted or
// moved).
func (f LinkBandwidth) Bit(h *history.History, rec *history.Fault) (string, bool) {
	return f.w().slowedBit(h, rec, slowBound, true)
}

func init() {
	register(Entry{Name: "link-bandwidth", Summary: "limits a link to rate KB/s; link=balancer (default), database or clearing",
		New: func() Fault {
			return &LinkBandwidth{Provider: "p1", Link: LinkBalancer, Rate: 2, Direction: dirResponse}
		}})
}
