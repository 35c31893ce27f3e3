package deploy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// heartbeat measures the replication round trip both ways: a row written
// on one master must become readable on the other. The rows live in a table
// of the harness's own, created at the start and dropped at the end, so the
// application's data is never written.
type heartbeat struct {
	sides [2]*dbSide
	table string        // quoted
	wait  time.Duration // how long a row may take before the sample fails
	poll  time.Duration
}

// heartbeatTable names the table of one run: regify_verify_hb_<run id>.
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

// visible polls side s until query returns a row or the wait runs out.
func (h *heartbeat) visible(ctx context.Context, s *dbSide, query string, args ...any) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, h.wait)
	defer cancel()
	t := time.NewTicker(h.poll)
	defer t.Stop()
	for {
		var one int
		err := s.db.QueryRowContext(ctx, query, args...).Scan(&one)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, sql.ErrNoRows) || isNoSuchTable(err):
		case ctx.Err() != nil:
			return false, nil
		default:
			return false, err
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-t.C:
		}
	}
}

func isNoSuchTable(err error) bool { return strings.Contains(err.Error(), "Error 1146") }

// setup creates the table on a and waits for it on b; when replication
// does not bring it, b gets its own so the other direction is still measured.
func (h *heartbeat) setup(ctx context.Context) error {
	ddl := "CREATE TABLE IF NOT EXISTS " + h.table + " (id VARCHAR(64) PRIMARY KEY, side CHAR(1) NOT NULL, at BIGINT NOT NULL) ENGINE=InnoDB"
	if _, err := h.sides[0].db.ExecContext(ctx, ddl); err != nil {
		return errors.New(plainDBError(h.sides[0], "cannot create the heartbeat table", err))
	}
	ok, err := h.visible(ctx, h.sides[1], "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", strings.Trim(h.table, "`"))
	if err != nil {
		return errors.New(plainDBError(h.sides[1], "cannot look for the heartbeat table", err))
	}
	if !ok {
		if _, err := h.sides[1].db.ExecContext(ctx, ddl); err != nil {
			return errors.New(plainDBError(h.sides[1], "cannot create the heartbeat table", err))
		}
	}
	return nil
}

// sample writes one heartbeat on side from and times its arrival on the
// other side.
func (h *heartbeat) sample(ctx context.Context, from int, seq int) history.LagSample {
	src, dst := h.sides[from], h.sides[1-from]
	s := history.LagSample{At: time.Now(), From: src.name}
	id := fmt.Sprintf("%s-%d-%d", src.name, seq, s.At.UnixNano())
	if _, err := src.db.ExecContext(ctx, "INSERT INTO "+h.table+" (id, side, at) VALUES (?, ?, ?)", id, src.name, s.At.UnixNano()); err != nil {
		s.Err = plainDBError(src, "cannot write a heartbeat", err)
		return s
	}
	ok, err := h.visible(ctx, dst, "SELECT 1 FROM "+h.table+" WHERE id = ?", id)
	s.Lag = time.Since(s.At)
	switch {
	case err != nil:
		s.Err = plainDBError(dst, "cannot read the heartbeat", err)
	case !ok:
		s.Err = fmt.Sprintf("a heartbeat written on %s was not readable on %s within %s: replication %s→%s is stopped or far behind", src.name, dst.name, h.wait, src.name, dst.name)
	}
	return s
}

// drop removes the table on both sides: on a first (replicated), then on b
// if replication did not take it away.
func (h *heartbeat) drop(ctx context.Context) error {
	var errs []error
	for i, s := range h.sides {
		if i == 1 {
			_, _ = h.visible(ctx, s, "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ? HAVING COUNT(*) = 0", strings.Trim(h.table, "`"))
		}
		if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+h.table); err != nil {
			errs = append(errs, errors.New(plainDBError(s, "cannot drop the heartbeat table "+h.table, err)))
		}
	}
	return errors.Join(errs...)
}
