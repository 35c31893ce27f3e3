package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// LinkSlice cuts what crosses a link into small segments of Size ±
// Variation bytes, Delay apart, in Direction: response (default), request
// or both — the fragmented, trickling TCP stream a lossy path delivers,
// which a parser that expects whole messages trips over. Link picks the
// wires as for link-cut; the replication stream is no proxied wire. Like a
// bandwidth limit it is a Provider fault on a provider's wires.
type LinkSlice struct {
	Provider  string        `fault:"provider"`
	Link      string        `fault:"link"`
	Clearing  int           `fault:"clearing"`
	Size      int           `fault:"size"`
	Variation int           `fault:"variation"`
	Delay     time.Duration `fault:"delay"`
	Direction string        `fault:"direction"`
}

const sliceToxic = "link-slice"

func (f LinkSlice) w() wires     { return wires{f.Link, f.Provider, f.Clearing} }
func (f LinkSlice) Name() string { return "link-slice" }
func (f LinkSlice) Target() string {
	return describe(f.w().target(), fmt.Sprintf("%d±%d B every %s", f.Size, f.Variation, f.Delay), f.Direction)
}
func (f LinkSlice) Kind() Kind { return f.w().kind(true) }

// Validate refuses knobs that name no wires, the replication stream and
// segments toxiproxy cannot cut.
func (f LinkSlice) Validate() error {
	if err := f.w().validate(); err != nil {
		return err
	}
	if f.w().class() == LinkReplication {
		return errNoReplicationWire
	}
	if f.Size <= 0 {
		return fmt.Errorf("size=%d: want bytes above 0", f.Size)
	}
	if f.Variation < 0 || f.Variation >= f.Size {
		return fmt.Errorf("variation=%d: want 0 up to below the size %d", f.Variation, f.Size)
	}
	if f.Delay < 0 {
		return fmt.Errorf("delay=%s: want 0 or more", f.Delay)
	}
	_, err := streams(f.Direction)
	return err
}

// NeedsDatabase: the database link needs the pair.
func (f LinkSlice) NeedsDatabase() bool { return f.w().needsDatabase() }

func (f LinkSlice) Inject(ctx context.Context, env Env) error {
	if err := f.Validate(); err != nil {
		return err
	}
	attrs := map[string]any{"average_size": f.Size, "size_variation": f.Variation, "delay": f.Delay.Microseconds()}
	if err := addToxics(env, f.w(), sliceToxic, f.Direction, "slicer", attrs); err != nil {
		return fmt.Errorf("slice %s: %w", f.Target(), err)
	}
	return nil
}

func (f LinkSlice) Recover(ctx context.Context, env Env) error {
	if f.Validate() != nil {
		return nil // Inject refused it: nothing to mend
	}
	if err := removeToxics(ctx, env, f.w(), sliceToxic, f.Direction); err != nil {
		return fmt.Errorf("end the slicing on %s: %w", f.Target(), err)
	}
	return nil
}

// Bit: the requests through the wires inside the window were slower at
// the median (or, on a provider's wires, its clients were disrupted or
// moved). Slicing without a delay only fragments: nothing in the history
// can show that.
func (f LinkSlice) Bit(h *history.History, rec *history.Fault) (string, bool) {
	if f.Delay == 0 {
		return notVisible("slicing without a delay only fragments the stream, which takes no measurable time")
	}
	return f.w().slowedBit(h, rec, slowBound, true)
}

func init() {
	register(Entry{Name: "link-slice", Summary: "slices a link's stream into size ± variation bytes, delay apart; link=balancer (default), database or clearing",
		New: func() Fault {
			return &LinkSlice{Provider: "p1", Link: LinkBalancer, Size: 16, Variation: 4, Delay: 5 * time.Millisecond, Direction: dirResponse}
		}})
}
