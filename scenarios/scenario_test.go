package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/scenarios/check"
)

func TestFind(t *testing.T) {
	all := Catalogue()
	cases := []struct {
		name    string
		args    []string
		want    int
		wantErr string
	}{
		{"nothing: all", nil, len(all), ""},
		{"empty string: all", []string{""}, len(all), ""},
		{"one", []string{"baseline"}, 1, ""},
		{"comma list", []string{"baseline, provider-crash"}, 2, ""},
		{"repeated flags", []string{"baseline", "provider-crash", "baseline"}, 2, ""},
		{"unknown", []string{"nope"}, 0, `unknown scenario "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Find(tc.args...)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Len(t, got, tc.want)
		})
	}
}

// TestCatalogueIsWellFormed: names are unique, every negative control names
// canonical invariants it expects to fail, and every invariant has at least
// one negative control (a checker that cannot fail proves nothing).
func TestCatalogueIsWellFormed(t *testing.T) {
	canonical := map[string]bool{}
	for _, spec := range check.Specs() {
		if spec.Lab { // target mode's own invariants have no lab negative control
			canonical[spec.Name] = true
		}
	}
	names := map[string]bool{}
	controlled := map[string]bool{}
	for _, spec := range Catalogue() {
		s := spec()
		require.NotEmpty(t, s.Name)
		require.False(t, names[s.Name], "scenario %s defined twice", s.Name)
		names[s.Name] = true
		assert.NotEmpty(t, s.Description, s.Name)
		if s.Negative {
			require.NotEmpty(t, s.ExpectFail, "negative control %s expects nothing to fail", s.Name)
		}
		for _, inv := range s.ExpectFail {
			assert.True(t, canonical[inv], "%s expects unknown invariant %s", s.Name, inv)
			controlled[inv] = true
		}
	}
	for n := range canonical {
		assert.True(t, controlled[n], "invariant %s has no negative control", n)
	}
}
