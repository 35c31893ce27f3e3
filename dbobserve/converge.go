package dbobserve

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ConvergeOptions say what converged means and how long to wait for it.
type ConvergeOptions struct {
	// Tables must have equal checksums on both sides; none: only the
	// other conditions count.
	Tables []string
	// Bound is how long to wait (default 30s); Poll the pause between
	// rounds (default 50ms).
	Bound, Poll time.Duration
	// Applied also requires each side to have applied the other's own GTID
	// domain up to the other's binlog position (MariaDB).
	Applied bool
	// OneWay: only b replicates, from a (a minimum-redundancy pair), so
	// Applied waits for b alone; a never applies b's writes.
	OneWay bool
	// GiveUpWhenStopped ends the wait once a replica thread the pair
	// relies on has stopped: at once when it stopped on an error (a
	// duplicate key, say: it applies nothing until someone intervenes),
	// after StoppedFor when it was stopped without one (a restarting
	// server starts its replica within that). Nothing the wait could see
	// would change. For a lab's pair after its faults were recovered.
	GiveUpWhenStopped bool
	// GiveUpWhenSettled ends the wait once both masters have applied all
	// of each other's writes, nothing new was written and the checksums,
	// different, stayed so for SettledFor (it needs Applied and Tables):
	// a divergence replication cannot repair (a row changed on one side
	// only, a conflict resolved differently on each). For a lab's pair
	// after its load ended and its faults were recovered.
	GiveUpWhenSettled bool
	// FailFast ends the wait at the first side that cannot be read: an
	// operator's pair does not heal by itself during the wait. Without it
	// a failed read only means "not yet" (a lab's side may be restarting).
	FailFast bool
}

// Convergence is the outcome of a wait.
type Convergence struct {
	Converged bool
	Waited    time.Duration
	// Why is the last reason the sides were not converged.
	Why string
	// GaveUp, with GiveUpWhenStopped or GiveUpWhenSettled, is why the
	// wait ended before its bound.
	GaveUp string
	// Sums are both sides' checksums of the last round, when that round
	// read them on both sides.
	Sums *[2]Checksums
	// SumErr is, with FailFast, the checksum failure that ended the wait,
	// per side.
	SumErr [2]error
}

// ErrNotConverged is wrapped by WaitConverged's error when the bound ran
// out.
var ErrNotConverged = errors.New("pair not converged")

// WaitConverged polls, up to the bound, until the sides are converged.
// Its error, when they are not, wraps ErrNotConverged (or, with FailFast,
// the failed read).
func (o *Observer) WaitConverged(ctx context.Context, opts ConvergeOptions) (Convergence, error) {
	if opts.Bound <= 0 {
		opts.Bound = 30 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = 50 * time.Millisecond
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, opts.Bound)
	defer cancel()
	var c Convergence
	var stopped stoppedSince
	var settled settledSince
	for {
		ok, round, err := o.convergedOnce(wctx, opts, &c)
		c.Waited = time.Since(start)
		if wctx.Err() != nil {
			// A read the wait's own bound cut short says nothing of the side.
			err, c.SumErr = nil, [2]error{}
		}
		if ok {
			c.Converged, c.Why = true, ""
			return c, nil
		}
		if err != nil {
			c.Why = err.Error()
			if opts.FailFast {
				return c, fmt.Errorf("wait for the pair to converge: %w", err)
			}
		}
		why := ""
		if opts.GiveUpWhenStopped {
			why = stopped.check(o.Both(wctx), opts.OneWay, time.Now())
		}
		if why == "" && opts.GiveUpWhenSettled && err == nil {
			why = settled.check(round.applied, round.pos, c.Sums, time.Now())
		}
		if why != "" {
			c.GaveUp = why
			c.Why = why + "; " + c.Why
			return c, fmt.Errorf("%w: %s", ErrNotConverged, c.Why)
		}
		if !sleepCtx(wctx, opts.Poll) {
			if ctx.Err() != nil {
				return c, fmt.Errorf("wait for the pair to converge: %w", ctx.Err())
			}
			return c, fmt.Errorf("%w within %s: %s", ErrNotConverged, opts.Bound, c.Why)
		}
	}
}

// convergeRound is what one round of a wait saw besides its verdict.
type convergeRound struct {
	// applied: with ConvergeOptions.Applied, each side has applied the
	// other's writes.
	applied bool
	// pos are both sides' binary log positions.
	pos string
}

// convergedOnce checks once; a reason for "not yet" goes to c.Why, a
// failed read is the error.
func (o *Observer) convergedOnce(ctx context.Context, opts ConvergeOptions, c *Convergence) (bool, convergeRound, error) {
	c.Sums = nil
	var round convergeRound
	var set [2]Settings
	for _, s := range Sides {
		var err error
		if set[s], err = o.Settings(ctx, s); err != nil {
			return false, round, err
		}
	}
	round.pos = set[A].GTIDBinlogPos + "/" + set[B].GTIDBinlogPos
	if opts.Applied {
		for _, s := range Sides {
			if opts.OneWay && s == B {
				continue // a does not replicate from b
			}
			me, other := set[s], set[s.Other()]
			want := gtidSeq(me.GTIDBinlogPos, me.GTIDDomainID)
			if got := gtidSeq(other.GTIDCurrentPos, me.GTIDDomainID); got < want {
				c.Why = fmt.Sprintf("side %s applied domain %d up to %d of %d", s.Other(), me.GTIDDomainID, got, want)
				return false, round, nil
			}
		}
	}
	round.applied = opts.Applied
	if len(opts.Tables) == 0 {
		return true, round, nil
	}
	var sums [2]Checksums
	var errs []error
	for _, s := range Sides {
		var err error
		if sums[s], err = o.Checksum(ctx, s, opts.Tables); err != nil {
			c.SumErr[s] = err
			errs = append(errs, err)
			if !opts.FailFast {
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return false, round, err
	}
	c.SumErr = [2]error{}
	c.Sums = &sums
	if !sums[A].Equal(sums[B]) {
		c.Why = fmt.Sprintf("checksums differ: a=%v b=%v", sums[A], sums[B])
		return false, round, nil
	}
	return true, round, nil
}

// gtidSeq returns the sequence number of domain in a GTID list such as
// "1-1-5,2-2-7" (0 when absent).
func gtidSeq(list string, domain int) uint64 {
	for _, g := range strings.Split(list, ",") {
		p := strings.Split(strings.TrimSpace(g), "-")
		if len(p) != 3 {
			continue
		}
		if d, _ := strconv.Atoi(p[0]); d == domain {
			n, _ := strconv.ParseUint(p[2], 10, 64)
			return n
		}
	}
	return 0
}
