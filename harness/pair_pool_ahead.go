package harness

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// ahead is the pool's bookkeeping for pairs started before a scenario
// asks for them. Starting a pair takes 4-7 s with containers; a scenario
// whose pair is wrong on purpose (a negative control's), or the first
// after a scenario broke its pair, would otherwise wait that long with
// its lane idle, and those waits add up on the catalogue's longest chain,
// its database scenarios. Guarded by PairPool.mu.
type ahead struct {
	// remaining counts, by pool key, the scenarios still to take a pair.
	remaining map[PairOptions]int
	// order is the keys of remaining, the usual pair first: it goes back
	// to the pool and is needed again soon.
	order []PairOptions
	// out counts reusable pairs handed out and not yet put back.
	out map[PairOptions]int
	// starting counts pairs being started ahead, by key.
	starting map[PairOptions]int
	// failed keys are not started ahead again: the scenario then starts
	// its own pair and says what failed.
	failed map[PairOptions]bool
	// lanes bounds the reusable pairs in circulation: one per database
	// lane.
	lanes int

	cancel context.CancelFunc
	done   sync.WaitGroup
}

func newAhead() ahead {
	return ahead{remaining: map[PairOptions]int{}, out: map[PairOptions]int{}, starting: map[PairOptions]int{}, failed: map[PairOptions]bool{}}
}

func (a *ahead) claim(key PairOptions) {
	if a.remaining[key] > 0 {
		a.remaining[key]--
	}
	if key.Reusable() {
		a.out[key]++
	}
}

// next is the key whose pairs (idle, being started, and for the usual
// pair those handed out, which come back) fall short of what is still to
// come: for the usual pair, one per database lane while scenarios remain.
// Of the pairs never reused (a negative control's own), one at a time is
// kept ready: started all at once they came up together beside the
// first, most timing-sensitive scenarios (measured: three wrong verdicts
// in the first 20 s of a catalogue), while one ahead is always ready
// since a scenario takes seconds longer than a start.
func (a *ahead) next(idle map[PairOptions][]*Pair) (PairOptions, bool) {
	ready := 0 // pairs never reused, idle or being started
	for _, key := range a.order {
		if !key.Reusable() {
			ready += len(idle[key]) + a.starting[key]
		}
	}
	for _, key := range a.order {
		rem := a.remaining[key]
		if rem == 0 || a.failed[key] {
			continue
		}
		supply := len(idle[key]) + a.starting[key]
		if key.Reusable() {
			if supply+a.out[key] < min(rem, a.lanes) {
				return key, true
			}
			continue
		}
		if ready == 0 && supply < rem {
			return key, true
		}
	}
	return PairOptions{}, false
}

// Expect tells the pool which pairs the scenarios still to run will take,
// one entry a scenario, and how many of them run at once (lanes). From then
// on the pool starts in the background, one at a time, every pair those
// scenarios would not find idle: a negative control's own pair long
// before its turn, and a replacement as soon as a broken pair is
// discarded. host is where process pairs started ahead listen. The pairs
// come up beside the scenarios running, as they would when a scenario
// starts its own. Close stops it.
func (pp *PairPool) Expect(ctx context.Context, demand []PairOptions, lanes int, host string, log *slog.Logger) {
	if log == nil {
		log = pp.log
	}
	ctx, cancel := context.WithCancel(ctx)
	pp.mu.Lock()
	a := &pp.ahead
	if a.cancel != nil || pp.closed {
		pp.mu.Unlock()
		cancel()
		return
	}
	a.cancel, a.lanes = cancel, max(lanes, 1)
	for _, o := range demand {
		o.Host = host
		key := poolKey(o)
		if a.remaining[key] == 0 {
			a.order = append(a.order, key)
		}
		a.remaining[key]++
	}
	slices.SortStableFunc(a.order, func(x, y PairOptions) int {
		switch {
		case x.Reusable() == y.Reusable():
			return 0
		case x.Reusable():
			return -1
		}
		return 1
	})
	a.done.Add(1)
	pp.signalLocked()
	pp.mu.Unlock()
	go func() {
		defer a.done.Done()
		pp.fill(ctx, host, log)
	}()
}

// fill starts the pairs ahead.next names until ctx ends or nothing more is
// to come.
func (pp *PairPool) fill(ctx context.Context, host string, log *slog.Logger) {
	for {
		pp.mu.Lock()
		key, ok := pp.ahead.next(pp.idle)
		wait := pp.changed
		if !ok {
			pp.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-wait:
				continue
			}
		}
		pp.ahead.starting[key]++
		pp.mu.Unlock()

		o := key
		o.Host = host
		p, err := pp.start(ctx, o, log)

		pp.mu.Lock()
		pp.ahead.starting[key]--
		switch {
		case err != nil:
			pp.ahead.failed[key] = true
		case pp.closed || ctx.Err() != nil:
		default:
			pp.idle[key] = append(pp.idle[key], p)
			pp.started++
		}
		pp.signalLocked()
		closed := pp.closed || ctx.Err() != nil
		pp.mu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("start a mariadb pair ahead: the scenario will start its own", "err", err)
			}
			continue
		}
		if closed {
			_ = p.Close(context.WithoutCancel(ctx))
			return
		}
		log.Debug("mariadb pair started ahead", "reusable", key.Reusable())
	}
}

// unclaim undoes a claim whose pair was not handed out after all.
func (pp *PairPool) unclaim(key PairOptions) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	pp.ahead.remaining[key]++
	if key.Reusable() && pp.ahead.out[key] > 0 {
		pp.ahead.out[key]--
	}
	pp.signalLocked()
}

// returned counts a pair put back (kept or closed).
func (pp *PairPool) returned(key PairOptions) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if key.Reusable() && pp.ahead.out[key] > 0 {
		pp.ahead.out[key]--
	}
	pp.signalLocked()
}

// stopAhead ends the background starts and waits for them.
func (pp *PairPool) stopAhead() {
	pp.mu.Lock()
	cancel := pp.ahead.cancel
	pp.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	pp.ahead.done.Wait()
}

// Settle waits until nothing is left to start ahead and nothing is being
// started: called right after Expect, it brings up the first pair ahead
// (a negative control's) before the first scenario rather than beside it.
func (pp *PairPool) Settle(ctx context.Context) error {
	for {
		pp.mu.Lock()
		_, more := pp.ahead.next(pp.idle)
		for _, n := range pp.ahead.starting {
			more = more || n > 0
		}
		wait := pp.changed
		pp.mu.Unlock()
		if !more {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the mariadb pairs started ahead: %w", ctx.Err())
		case <-wait:
		}
	}
}
