package catalogue

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/regify-verify/regify-verify/scenarios/check"
)

// TestRegistryNegativeControlsMatchCatalogue: the negative controls the
// invariant registry names are exactly the catalogue's negative scenarios
// that expect the invariant to fail.
func TestRegistryNegativeControlsMatchCatalogue(t *testing.T) {
	want := map[string][]string{} // invariant -> negative scenarios
	for _, spec := range All() {
		s := spec()
		if !s.Negative {
			continue
		}
		for _, inv := range s.ExpectFail {
			want[inv] = append(want[inv], s.Name)
		}
	}
	for _, spec := range check.Specs() {
		assert.ElementsMatch(t, want[spec.Name], spec.Negative, "negative controls of %s", spec.Name)
		delete(want, spec.Name)
	}
	assert.Empty(t, want, "negative controls expect invariants the registry does not know")
}
