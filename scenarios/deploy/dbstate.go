package deploy

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// dbRounds is how many heartbeats go each way.
const dbRounds = 3

// readDatabase judges nothing: it reads what the database invariants need
// from the operator's pair — heartbeat lag both ways, replica status,
// auto-increment settings and table checksums (retried until equal within a
// bound, since live traffic may be in flight). Problems become fields of the
// state (an unreachable side, a failed sample), never an error.
func readDatabase(ctx context.Context, d *Database, runID string, log *slog.Logger) (*history.DBState, []history.LagSample) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sides, err := openSides(d)
	state := &history.DBState{}
	if err != nil {
		for i := range 2 {
			state.Sides = append(state.Sides, history.DBSide{Name: sideName(i), Err: err.Error()})
		}
		return state, nil
	}
	defer func() {
		for _, s := range sides {
			_ = s.db.Close()
		}
	}()
	var lags []history.LagSample
	for _, s := range sides {
		state.Sides = append(state.Sides, readSide(ctx, s))
	}
	reachable := state.Sides[0].Reachable && state.Sides[1].Reachable
	if reachable {
		hb := &heartbeat{sides: sides, table: "`" + heartbeatTable(runID) + "`", wait: max(2*d.MaxLag, 2*time.Second), poll: 10 * time.Millisecond}
		if err := hb.setup(ctx); err != nil {
			lags = append(lags, history.LagSample{At: time.Now(), From: "a", Err: err.Error()})
		} else {
			for n := range dbRounds {
				for from := range 2 {
					if ctx.Err() != nil {
						break
					}
					lags = append(lags, hb.sample(ctx, from, n))
				}
			}
		}
		// The table goes also on Ctrl-C: it is ours, not the operator's.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		if err := hb.drop(dctx); err != nil {
			log.Warn("heartbeat table left behind", "table", heartbeatTable(runID), "err", err)
		}
		cancel()
	}
	if len(d.Tables) > 0 && reachable {
		start := time.Now()
		bound := max(2*d.MaxLag, 5*time.Second)
		for {
			var sums [2]map[string]int64
			var errs []error
			for i, s := range sides {
				cs, err := checksums(ctx, s, d.Tables)
				if err != nil {
					errs = append(errs, errors.New(plainDBError(s, "cannot checksum", err)))
				}
				sums[i] = cs
			}
			state.ConvergeWait = time.Since(start)
			if err := errors.Join(errs...); err != nil {
				for i := range 2 {
					if sums[i] == nil {
						state.Sides[i].Checksums = nil
						state.Sides[i].Reachable = false
						state.Sides[i].Err = err.Error()
					}
				}
				break
			}
			state.Sides[0].Checksums, state.Sides[1].Checksums = sums[0], sums[1]
			if equalSums(sums[0], sums[1]) {
				state.Converged = true
				break
			}
			if time.Since(start) > bound || !sleepCtx(ctx, 250*time.Millisecond) {
				break
			}
		}
	} else {
		state.Converged = reachable
	}
	return state, lags
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
