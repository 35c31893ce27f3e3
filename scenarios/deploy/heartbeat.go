package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/history"
)

// heartbeatTable names the table of one run: regify_verify_hb_<run id>.
// It lives in the DSNs' database, is created at the start and dropped at
// the end, so the application's data is never written.
func heartbeatTable(runID string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(runID) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		}
	}
	id := b.String()
	if len(id) > 40 {
		id = id[len(id)-40:]
	}
	return "regify_verify_hb_" + id
}

// errText renders a failed read of one side for the history.
type errText func(s dbobserve.Side, what string, err error) string

// measureLag measures the replication round trip both ways, dbRounds times:
// a row written on one master must become readable on the other within
// max(2×MaxLag, 2s). The heartbeat table goes at the end, also on Ctrl-C:
// it is ours, not the operator's.
func measureLag(ctx context.Context, obs *dbobserve.Observer, d *Database, runID string, text errText, log *slog.Logger) []history.LagSample {
	wait := max(2*d.MaxLag, 2*time.Second)
	var lags []history.LagSample
	if err := obs.CreateHeartbeat(ctx, wait); err != nil {
		lags = append(lags, history.LagSample{At: time.Now(), From: "a", Err: explain(text, err)})
	} else {
		for range dbRounds {
			for _, from := range dbobserve.Sides {
				if ctx.Err() != nil {
					break
				}
				lags = append(lags, lagSample(ctx, obs, from, wait, text))
			}
		}
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := obs.DropHeartbeat(dctx, wait); err != nil {
		log.Warn("heartbeat table left behind", "table", heartbeatTable(runID), "err", explain(text, err))
	}
	return lags
}

// lagSample writes one heartbeat on side from and times its arrival on the
// other side, with the failure in plain words.
func lagSample(ctx context.Context, obs *dbobserve.Observer, from dbobserve.Side, wait time.Duration, text errText) history.LagSample {
	to := from.Other()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	s := history.LagSample{At: time.Now(), From: from.String()}
	lag, err := obs.Lag(ctx, from)
	s.Lag = lag
	if err == nil {
		return s
	}
	s.Lag = time.Since(s.At)
	var ns *dbobserve.NotSeenError
	switch {
	case errors.As(err, &ns) && ns.Last != nil && !dbobserve.IsNoSuchTable(ns.Last):
		s.Err = text(to, "cannot read the heartbeat", ns.Last)
	case errors.As(err, &ns):
		s.Err = fmt.Sprintf("a heartbeat written on %s was not readable on %s within %s: replication %s→%s is stopped or far behind", from, to, wait, from, to)
	default:
		s.Err = explain(text, err)
	}
	return s
}

// explain renders an observer's error (joined ones each on their own).
func explain(text errText, err error) string {
	var parts []string
	for _, e := range unjoin(err) {
		var se *dbobserve.SideError
		if errors.As(e, &se) {
			parts = append(parts, text(se.Side, se.What, se.Err))
		} else {
			parts = append(parts, e.Error())
		}
	}
	return strings.Join(parts, "\n")
}

// unjoin splits an errors.Join result into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if e != nil {
				out = append(out, e)
			}
		}
		return out
	}
	return []error{err}
}
