package catalogue

import (
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

func TestFind(t *testing.T) {
	all := All()
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

// TestCatalogueIsWellFormed: names are unique, each scenario is defined in
// the file named for it, every negative control names
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
	for _, spec := range All() {
		s := spec()
		require.NotEmpty(t, s.Name)
		// One scenario a file, named exactly as the scenario.
		file, _ := runtime.FuncForPC(reflect.ValueOf(spec).Pointer()).FileLine(reflect.ValueOf(spec).Pointer())
		assert.Equal(t, strings.ReplaceAll(s.Name, "-", "_")+".go", filepath.Base(file), "scenario %s lives in a file named for it", s.Name)
		require.False(t, names[s.Name], "scenario %s defined twice", s.Name)
		names[s.Name] = true
		assert.NotEmpty(t, s.Description, s.Name)
		if s.Negative {
			require.NotEmpty(t, s.ExpectFail, "negative control %s expects nothing to fail", s.Name)
		}
		for _, inv := range s.Requires {
			assert.True(t, canonical[inv], "%s requires unknown invariant %s", s.Name, inv)
		}
		// A provider fault must outlast a request's wait plus the health
		// bound, or the fail-over path never runs.
		for _, st := range s.Faults {
			if st.Fault.Kind().Provider {
				assert.GreaterOrEqual(t, st.For, scenarios.ClientTimeout+scenarios.LabHealthBound,
					"%s: provider fault %s lasts %s, less than the client timeout plus the health bound", s.Name, st.Fault.Name(), st.For)
			}
		}
		if !s.Negative && len(s.Faults)+btoi(s.Drill != nil) > 0 {
			assert.NotEmpty(t, s.Requires, "scenario %s injects faults but names no invariant it exists for", s.Name)
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

// TestCatalogueOrder: registration from each file's init keeps the report
// order: lab scenarios, then negative controls, each group as before. A
// scenario added since may appear anywhere between them.
func TestCatalogueOrder(t *testing.T) {
	var got []string
	for _, s := range All() {
		got = append(got, s().Name)
	}
	want := []string{
		"baseline", "redirect-and-tls", "provider-crash", "provider-hang", "provider-slow", "link-cut", "link-reset",
		"clearing-link-cut", "passthrough", "passthrough-provider-crash", "database-crash", "database-pause",
		"database-restart", "provider-database-cut", "replication-cut-and-heal", "split-brain", "replication-lag",
		"conflicting-writes", "minimum-redundancy-drill",
		"neg-round-robin", "neg-cookie-persistence", "neg-no-redirect", "neg-redirect-drops-query",
		"neg-redirect-wrong-host", "neg-no-forwarded-proto", "neg-wrong-certificate", "neg-no-health-checks",
		"neg-non-rotating-cookie", "neg-old-tokens-valid", "neg-single-clearing", "neg-stopped-replication",
		"neg-replication-lag", "neg-equal-auto-increment", "neg-session-loss-round-robin", "neg-split-brain",
	}
	kept := slices.DeleteFunc(slices.Clone(got), func(n string) bool { return !slices.Contains(want, n) })
	assert.Equal(t, want, kept)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
