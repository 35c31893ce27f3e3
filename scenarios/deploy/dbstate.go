package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/history"
)

// dbRounds is how many heartbeats go each way.
const dbRounds = 3

// readDatabase judges nothing: it reads what the database invariants need
// from the operator's pair through dbobserve — replica status,
// auto-increment settings and table checksums (retried until equal within a
// bound, since live traffic may be in flight), then heartbeat lag both
// ways. Problems become fields of the state (an unreachable side, a failed
// sample), never an error.
func readDatabase(ctx context.Context, d *Database, runID string, log *slog.Logger) (*history.DBState, []history.LagSample) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dsns := [2]string{d.A, d.B}
	text := func(s dbobserve.Side, what string, err error) string {
		return plainDBError(s.String(), dsns[s], what, err)
	}
	obs, err := dbobserve.Open(d.A, d.B, dbobserve.WithErrorText(text), dbobserve.WithReadTimeout(10*time.Second),
		dbobserve.WithHeartbeat(heartbeatTable(runID), 10*time.Millisecond), dbobserve.WithLogger(log))
	if err != nil {
		var se *dbobserve.SideError
		if errors.As(err, &se) {
			err = fmt.Errorf("parse DSN of master %s (%s): %w", se.Side, RedactDSN(dsns[se.Side]), se.Err)
		}
		state := &history.DBState{}
		for i := range 2 {
			state.Sides = append(state.Sides, history.DBSide{Name: sideName(i), Err: err.Error()})
		}
		return state, nil
	}
	defer obs.Close()
	state, _ := obs.Final(ctx, dbobserve.FinalOptions{Converge: dbobserve.ConvergeOptions{
		Tables: d.Tables, Bound: max(2*d.MaxLag, 5*time.Second), Poll: 250 * time.Millisecond, FailFast: true,
	}})
	if len(state.Sides) != 2 || !state.Sides[0].Reachable || !state.Sides[1].Reachable {
		return state, nil
	}
	return state, measureLag(ctx, obs, d, runID, text, log)
}
