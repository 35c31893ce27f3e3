package dbobserve

import (
	"context"
	"database/sql"
	"fmt"
)

// Checksums are CHECKSUM TABLE results of one side, keyed by the table
// names as the caller gave them; a missing table is -1.
type Checksums map[string]int64

// Equal reports whether both maps hold the same tables with the same sums.
func (c Checksums) Equal(other Checksums) bool {
	if len(c) != len(other) {
		return false
	}
	for k, v := range c {
		if w, ok := other[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Checksum runs CHECKSUM TABLE on side s, one table at a time.
func (o *Observer) Checksum(ctx context.Context, s Side, tables []string) (Checksums, error) {
	if len(tables) == 0 {
		return nil, &SideError{Side: s, What: "cannot checksum", Err: fmt.Errorf("no tables named")}
	}
	db, err := o.DB(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make(Checksums, len(tables))
	for _, t := range tables {
		var name string
		var sum sql.NullInt64
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE "+quoteTable(o.qualify(t))).Scan(&name, &sum); err != nil {
			return nil, &SideError{Side: s, What: "cannot checksum", Err: fmt.Errorf("checksum %s: %w", t, err)}
		}
		out[t] = -1
		if sum.Valid {
			out[t] = sum.Int64
		}
	}
	return out, nil
}
