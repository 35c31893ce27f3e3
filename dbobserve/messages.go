package dbobserve

import (
	"context"
	"fmt"
)

// Messages names where the messages live: a table and its columns.
type Messages struct {
	Table string // e.g. "messages"
	ID    string // the client-chosen message id column, e.g. "msg_id"
	// Tenant, when set, keys the result "tenant/id"; otherwise rows of
	// every tenant with the same id count together.
	Tenant string
}

// MessageIDs counts side s's rows per message id (or tenant/id).
func (o *Observer) MessageIDs(ctx context.Context, s Side, m Messages) (map[string]int, error) {
	db, err := o.DB(ctx, s)
	if err != nil {
		return nil, err
	}
	key := "CAST(" + quoteIdent(m.ID) + " AS CHAR)"
	if m.Tenant != "" {
		key = "CONCAT(" + quoteIdent(m.Tenant) + ", '/', " + quoteIdent(m.ID) + ")"
	}
	rows, err := db.QueryContext(ctx, "SELECT "+key+", COUNT(*) FROM "+quoteTable(o.qualify(m.Table))+" GROUP BY 1")
	if err != nil {
		return nil, &SideError{Side: s, What: "cannot list the messages", Err: err}
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, &SideError{Side: s, What: "cannot list the messages", Err: fmt.Errorf("scan: %w", err)}
		}
		out[k] += n
	}
	if err := rows.Err(); err != nil {
		return nil, &SideError{Side: s, What: "cannot list the messages", Err: err}
	}
	return out, nil
}
