package mariadb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// RowDiff is one row the two sides hold differently, named by its primary
// key: the witness a person reads when checksums differ.
type RowDiff struct {
	Table string
	Key   string // primary key columns and values, e.g. "id=17"
	// Missing is the side without the row; empty when both hold it and
	// Columns lists what differs.
	Missing string
	Columns []ColumnDiff
}

// ColumnDiff is one column of a row with each side's value.
type ColumnDiff struct {
	Name string
	A, B string
}

// maxDiffRows bounds how many rows of one table DiffRows reads per side;
// the provider's tables in a run hold a few thousand.
const maxDiffRows = 200_000

// DiffRows compares tables row by row (in primary key order) between dbs[A]
// and dbs[B] and returns at most limit rows that differ, in table order.
// Each table needs a primary key.
func DiffRows(ctx context.Context, dbs [2]*sql.DB, tables []string, limit int) ([]RowDiff, error) {
	var out []RowDiff
	for _, t := range tables {
		if len(out) >= limit {
			break
		}
		pk, err := primaryKey(ctx, dbs[A], t)
		if err != nil {
			return out, err
		}
		var sides [2]tableRows
		for _, s := range Sides {
			sides[s], err = readRows(ctx, dbs[s], t, pk)
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
	schema, name := "DATABASE()", "?"
	args := []any{table}
	if i := strings.IndexByte(table, '.'); i >= 0 {
		schema = "?"
		args = []any{table[:i], table[i+1:]}
	}
	rows, err := db.QueryContext(ctx, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = "+schema+
		" AND TABLE_NAME = "+name+" AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", args...)
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

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quoteTable(t string) string {
	parts := strings.Split(t, ".")
	for i, p := range parts {
		parts[i] = quoteIdent(p)
	}
	return strings.Join(parts, ".")
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
func diffTable(table string, sides [2]tableRows, limit int) []RowDiff {
	var out []RowDiff
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
			out = append(out, RowDiff{Table: table, Key: k, Missing: B.String()})
			continue
		}
		var cols []ColumnDiff
		for c, name := range sides[A].cols {
			cb := slices.Index(sides[B].cols, name)
			vb := "(no such column)"
			if cb >= 0 {
				vb = sides[B].vals[j][cb]
			}
			if va := sides[A].vals[i][c]; va != vb {
				cols = append(cols, ColumnDiff{Name: name, A: clipValue(va), B: clipValue(vb)})
			}
		}
		if len(cols) > 0 {
			out = append(out, RowDiff{Table: table, Key: k, Columns: cols})
		}
	}
	for _, k := range sides[B].keys {
		if len(out) >= limit {
			return out
		}
		if _, ok := other[A][k]; !ok {
			out = append(out, RowDiff{Table: table, Key: k, Missing: A.String()})
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
