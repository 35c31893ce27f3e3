package dbobserve

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/regify-verify/regify-verify/history"
)

// maxDiffRows bounds how many rows of one table DiffRows reads per side;
// the provider's tables in a run hold a few thousand.
const maxDiffRows = 200_000

// DiffRows compares tables row by row (in primary key order) between the
// sides and returns at most limit rows that differ, in table order: the
// witness a person reads when checksums differ. Each table needs a primary
// key.
func (o *Observer) DiffRows(ctx context.Context, tables []string, limit int) ([]history.RowDiff, error) {
	var dbs [2]*sql.DB
	for _, s := range Sides {
		var err error
		if dbs[s], err = o.DB(ctx, s); err != nil {
			return nil, fmt.Errorf("compare rows: %w", err)
		}
	}
	var out []history.RowDiff
	for _, t := range tables {
		if len(out) >= limit {
			break
		}
		q := o.qualify(t)
		pk, err := primaryKey(ctx, dbs[A], q)
		if err != nil {
			return out, err
		}
		var sides [2]tableRows
		for _, s := range Sides {
			sides[s], err = readRows(ctx, dbs[s], q, pk)
			if err != nil {
				return out, fmt.Errorf("compare rows of %s on side %s: %w", t, s, err)
			}
		}
		out = append(out, diffTable(t, sides, limit-len(out))...)
	}
	return out, nil
}

// tableRows is a table read in primary key order.
type tableRows struct {
	cols []string
	keys []string   // rendered primary key per row
	vals [][]string // column values per row; NULL is "NULL"
}

func primaryKey(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	schema, name := splitTable(table)
	where, args := "TABLE_SCHEMA = DATABASE()", []any{name}
	if schema != "" {
		where, args = "TABLE_SCHEMA = ?", []any{schema, name}
	}
	rows, err := db.QueryContext(ctx, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE "+where+
		" AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", args...)
	if err != nil {
		return nil, fmt.Errorf("read the primary key of %s: %w", table, err)
	}
	defer rows.Close()
	var pk []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("read the primary key of %s: %w", table, err)
		}
		pk = append(pk, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the primary key of %s: %w", table, err)
	}
	if len(pk) == 0 {
		return nil, fmt.Errorf("table %s has no primary key (or does not exist): rows cannot be matched across sides", table)
	}
	return pk, nil
}

func readRows(ctx context.Context, db *sql.DB, table string, pk []string) (tableRows, error) {
	order := make([]string, len(pk))
	for i, c := range pk {
		order[i] = quoteIdent(c)
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %s ORDER BY %s LIMIT %d", quoteTable(table), strings.Join(order, ", "), maxDiffRows))
	if err != nil {
		return tableRows{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return tableRows{}, err
	}
	pkIdx := make([]int, len(pk))
	for i, c := range pk {
		pkIdx[i] = slices.Index(cols, c)
		if pkIdx[i] < 0 {
			return tableRows{}, fmt.Errorf("primary key column %s not in the result", c)
		}
	}
	tr := tableRows{cols: cols}
	raw := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return tableRows{}, err
		}
		v := make([]string, len(cols))
		for i, b := range raw {
			if b == nil {
				v[i] = "NULL"
			} else {
				v[i] = string(b)
			}
		}
		k := make([]string, len(pk))
		for i, c := range pk {
			k[i] = c + "=" + v[pkIdx[i]]
		}
		tr.keys = append(tr.keys, strings.Join(k, ","))
		tr.vals = append(tr.vals, v)
	}
	return tr, rows.Err()
}

// diffTable matches both sides' rows by primary key: first A's rows in
// order (changed, or missing on B), then B's rows missing on A.
func diffTable(table string, sides [2]tableRows, limit int) []history.RowDiff {
	var out []history.RowDiff
	other := [2]map[string]int{{}, {}}
	for s := range sides {
		for i, k := range sides[s].keys {
			other[s][k] = i
		}
	}
	for i, k := range sides[A].keys {
		if len(out) >= limit {
			return out
		}
		j, ok := other[B][k]
		if !ok {
			out = append(out, history.RowDiff{Table: table, Key: k, Missing: B.String()})
			continue
		}
		var cols []history.ColumnDiff
		for c, name := range sides[A].cols {
			cb := slices.Index(sides[B].cols, name)
			vb := "(no such column)"
			if cb >= 0 {
				vb = sides[B].vals[j][cb]
			}
			if va := sides[A].vals[i][c]; va != vb {
				cols = append(cols, history.ColumnDiff{Name: name, A: clipValue(va), B: clipValue(vb)})
			}
		}
		if len(cols) > 0 {
			out = append(out, history.RowDiff{Table: table, Key: k, Columns: cols})
		}
	}
	for _, k := range sides[B].keys {
		if len(out) >= limit {
			return out
		}
		if _, ok := other[A][k]; !ok {
			out = append(out, history.RowDiff{Table: table, Key: k, Missing: A.String()})
		}
	}
	return out
}

// clipValue keeps a witness readable: long values (message bodies) are cut.
func clipValue(v string) string {
	const max = 80
	if len(v) <= max {
		return v
	}
	return strings.ToValidUTF8(v[:max], "") + fmt.Sprintf("… (%d bytes)", len(v))
}
