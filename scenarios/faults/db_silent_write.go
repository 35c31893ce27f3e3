package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// DBSilentWrite changes one row on one master with binary logging off, so
// the change never replicates while both replica threads keep running: the
// silent divergence only a comparison of the rows can find. It cannot be
// undone; Recover leaves it for the final state to show.
type DBSilentWrite struct {
	Side string `fault:"side"`
}

// silentWrite changes the oldest message that is more than a second old:
// its one later update (the clearing mark) has replicated by then, so no
// replicated row image overwrites the change and heals it by accident.
const silentWrite = `UPDATE messages SET body = CONCAT(body, ' [changed on this master only]')
WHERE created < NOW(6) - INTERVAL 1 SECOND ORDER BY id LIMIT 1`

func (f DBSilentWrite) Name() string   { return "db-silent-write" }
func (f DBSilentWrite) Target() string { return "db-" + f.Side }

// Kind: a database fault; it takes no provider out.
func (f DBSilentWrite) Kind() Kind { return Kind{Database: true} }

func (f DBSilentWrite) Inject(ctx context.Context, env Env) error {
	return withDB(env, "change a row on database "+f.Side+" only", func(db DB) error { return db.WriteUnlogged(ctx, f.Side, silentWrite) })
}

// Recover does nothing: an unlogged change stays until someone repairs it.
func (f DBSilentWrite) Recover(context.Context, Env) error { return nil }

// Bit: at the end the masters differ while every replica thread runs — a
// divergence that replication itself does not report.
func (f DBSilentWrite) Bit(h *history.History, _ *history.Fault) (string, bool) {
	db := h.Final.DB
	if db == nil {
		return "the run read no database state, so nothing could show it", false
	}
	for _, s := range db.Sides {
		if !s.Reachable || !s.IORunning || !s.SQLRunning {
			return fmt.Sprintf("side %s's replication was not running cleanly at the end, so the divergence was not silent", s.Name), false
		}
	}
	if db.Converged {
		return "the masters held the same rows at the end: the change did not stay on one side", false
	}
	return fmt.Sprintf("took effect: the masters differ (%d rows named) while every replica thread runs", len(db.RowDiffs)), true
}

func init() {
	register(Entry{Name: "db-silent-write", NeedsDatabase: true,
		Summary: "changes one row on one master with binary logging off: a divergence replication does not report",
		New:     func() Fault { return &DBSilentWrite{Side: "b"} }})
}
