package dbobserve

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
)

func TestDiffTable(t *testing.T) {
	rows := func(cols []string, keyed ...[]string) tableRows {
		tr := tableRows{cols: cols}
		for _, v := range keyed {
			tr.keys = append(tr.keys, "id="+v[0])
			tr.vals = append(tr.vals, v)
		}
		return tr
	}
	cols := []string{"id", "gen", "body"}
	long := strings.Repeat("é", 100)
	cases := []struct {
		name  string
		a, b  tableRows
		limit int
		want  []history.RowDiff
	}{
		{"equal", rows(cols, []string{"1", "3", "x"}), rows(cols, []string{"1", "3", "x"}), 10, nil},
		{"changed column", rows(cols, []string{"1", "3", "x"}), rows(cols, []string{"1", "2", "x"}), 10,
			[]history.RowDiff{{Table: "t", Key: "id=1", Columns: []history.ColumnDiff{{Name: "gen", A: "3", B: "2"}}}}},
		{"missing on either side", rows(cols, []string{"1", "3", "x"}, []string{"3", "1", "y"}), rows(cols, []string{"2", "1", "z"}, []string{"3", "1", "y"}), 10,
			[]history.RowDiff{{Table: "t", Key: "id=1", Missing: "b"}, {Table: "t", Key: "id=2", Missing: "a"}}},
		{"limit", rows(cols, []string{"1", "3", "x"}, []string{"2", "3", "x"}), rows(cols), 1,
			[]history.RowDiff{{Table: "t", Key: "id=1", Missing: "b"}}},
		{"long values are cut on a character boundary", rows(cols, []string{"1", "3", long}), rows(cols, []string{"1", "3", "x"}), 10,
			[]history.RowDiff{{Table: "t", Key: "id=1", Columns: []history.ColumnDiff{{Name: "body", A: strings.Repeat("é", 40) + "… (200 bytes)", B: "x"}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, diffTable("t", [2]tableRows{tc.a, tc.b}, tc.limit))
		})
	}
}
