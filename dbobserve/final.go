package dbobserve

import (
	"context"
	"errors"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// FinalOptions say what Final reads; the lab and a deployment differ only
// in these.
type FinalOptions struct {
	// Converge is the wait for convergence: the tables whose checksums must
	// agree, the bound, and what else must hold (see ConvergeOptions).
	Converge ConvergeOptions
	// Messages, when its Table is set, is read on every reachable side.
	Messages Messages
	// RowDiffs is how many differing rows to keep as the witness when the
	// sides did not converge (0: none).
	RowDiffs int
	// OneWay marks a pair that replicates one way on purpose.
	OneWay bool
}

// noReplica is the text of a side whose replica status is empty.
const noReplica = "no replication configured: SHOW REPLICA STATUS is empty, this master does not replicate from the other"

// Final waits for the sides to converge (up to the bound) and reads the
// history's final database state: each side's replica state and settings,
// the checksums of the last comparison, the messages, and, when the sides
// did not converge, the first rows that differ. Problems of a side become
// fields of the state; the error is only the context's, with the state
// read so far.
func (o *Observer) Final(ctx context.Context, opts FinalOptions) (*history.DBState, error) {
	db := &history.DBState{OneWay: opts.OneWay}
	conv, _ := o.WaitConverged(ctx, opts.Converge)
	db.ConvergeWait, db.Converged, db.WaitEnded = conv.Waited, conv.Converged, conv.GaveUp
	if ctx.Err() != nil {
		return db, fmt.Errorf("read final database state: %w", ctx.Err())
	}
	st := o.Both(ctx)
	for _, x := range st {
		db.Sides = append(db.Sides, o.side(x))
	}
	sums, sumErr := o.finalSums(ctx, opts.Converge, conv, st)
	for _, s := range Sides {
		ds := &db.Sides[s]
		switch {
		case sumErr == nil && sums != nil:
			ds.Checksums = sums[s]
		case opts.Converge.FailFast && conv.SumErr[s] != nil:
			// A deployment's side that answered status but not a
			// checksum is as good as unreachable for the comparison.
			ds.Reachable, ds.Err = false, o.joined(conv.SumErr)
		}
		if opts.Messages.Table != "" && ds.Reachable {
			ids, err := o.MessageIDs(ctx, s, opts.Messages)
			if err != nil {
				ds.Err = o.explain(s, err)
			} else {
				ds.Messages = ids
			}
		}
	}
	if !db.Converged && sums != nil && sumErr == nil && opts.RowDiffs > 0 {
		diffs, err := o.DiffRows(ctx, opts.Converge.Tables, opts.RowDiffs)
		if err != nil {
			db.RowDiffErr = err.Error()
		}
		db.RowDiffs = diffs
	}
	return db, ctx.Err()
}

// finalSums are the checksums of the wait's last round, or a fresh read
// when that round did not get to them. None without tables, with an
// unreachable side, or when the wait ended on a failed checksum.
func (o *Observer) finalSums(ctx context.Context, opts ConvergeOptions, conv Convergence, st [2]Status) (*[2]Checksums, error) {
	if len(opts.Tables) == 0 || !st[A].Reachable || !st[B].Reachable {
		return nil, nil
	}
	if conv.Sums != nil {
		return conv.Sums, nil
	}
	if err := errors.Join(conv.SumErr[A], conv.SumErr[B]); err != nil && opts.FailFast {
		return nil, err
	}
	var sums [2]Checksums
	for _, s := range Sides {
		var err error
		if sums[s], err = o.Checksum(ctx, s, opts.Tables); err != nil {
			return nil, err
		}
	}
	return &sums, nil
}

// joined renders both sides' errors as one text.
func (o *Observer) joined(errs [2]error) string {
	var out []error
	for s, err := range errs {
		if err != nil {
			out = append(out, errors.New(o.explain(Side(s), err)))
		}
	}
	return errors.Join(out...).Error()
}

// side turns a status into the history's view of a side.
func (o *Observer) side(x Status) history.DBSide {
	ds := history.DBSide{Name: x.Side.String(), Reachable: x.Reachable}
	if !x.Reachable {
		ds.Err = o.explain(x.Side, x.Err)
		return ds
	}
	ds.AutoIncInc, ds.AutoIncOff = x.AutoIncrementIncrement, x.AutoIncrementOffset
	ds.Settings = &history.ServerSettings{ServerID: x.ServerID, GTIDDomainID: x.GTIDDomainID, MariaDB: x.MariaDB,
		BinlogFormat: x.BinlogFormat, LogSlaveUpdates: x.LogSlaveUpdates, ReadOnly: x.ReadOnly}
	ds.GTIDBinlog, ds.GTIDSlavePos = x.GTIDBinlogPos, x.GTIDSlavePos
	switch {
	case x.ReplicaErr != nil:
		ds.LastIOError, ds.LastIOErrno = o.explain(x.Side, x.ReplicaErr), -1
	case !x.Configured:
		ds.LastIOError, ds.LastIOErrno = noReplica, -1
	default:
		ds.IORunning, ds.SQLRunning = x.IORunning, x.SQLRunning
		ds.LastIOErrno, ds.LastIOError = x.LastIOErrno, x.LastIOError
		ds.LastSQLErrno, ds.LastSQLError = x.LastSQLErrno, x.LastSQLError
	}
	return ds
}
