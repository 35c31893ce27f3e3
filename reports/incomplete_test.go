package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIncompleteVerdict: a scenario whose fault did not take effect or
// whose required invariant was skipped is incomplete, never a pass; a
// failure still reads as a failure; a negative control that caught its
// breakage passes.
func TestIncompleteVerdict(t *testing.T) {
	pass := Invariant{Name: "failover", Verdict: Pass, Summary: "recovered"}
	fail := Invariant{Name: "stickiness", Verdict: Fail, Summary: "moved"}
	why := []string{"fault provider-hang on p1 did not take effect: none of the 5 clients on p1 was disrupted or moved"}
	cases := []struct {
		name string
		s    Scenario
		want Verdict
	}{
		{"all passed but a fault was inert", Scenario{Invariants: []Invariant{pass}, NotJudged: why}, Incomplete},
		{"a failure beside a gap is a failure", Scenario{Invariants: []Invariant{pass, fail}, NotJudged: why}, Fail},
		{"a negative control that caught its breakage passes", Scenario{Negative: true, Expect: []string{"stickiness"}, Invariants: []Invariant{fail}, NotJudged: why}, Pass},
		{"a negative control that missed it with an inert fault is incomplete", Scenario{Negative: true, Expect: []string{"failover"}, Invariants: []Invariant{pass}, NotJudged: why}, Incomplete},
		{"judged and passed", Scenario{Invariants: []Invariant{pass}}, Pass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.s.judge())
		})
	}

	r := &Report{RunID: "r1", Scenarios: []Scenario{{Name: "ok", Invariants: []Invariant{pass}}, {Name: "hang", Invariants: []Invariant{pass}, NotJudged: why}}}
	r.Finish()
	assert.Equal(t, Incomplete, r.Verdict, "a run with an incomplete scenario is incomplete")
	r.Scenarios = append(r.Scenarios, Scenario{Name: "bad", Invariants: []Invariant{fail}})
	r.Finish()
	assert.Equal(t, Fail, r.Verdict, "a failure outranks a gap")

	// Every output says it, with the reason.
	r.Scenarios = r.Scenarios[:2]
	r.Finish()
	var junit, table bytes.Buffer
	require.NoError(t, WriteJUnit(&junit, r))
	require.NoError(t, xml.Unmarshal(junit.Bytes(), new(any)))
	assert.Contains(t, junit.String(), `type="incomplete"`)
	assert.Contains(t, junit.String(), "did not take effect")
	require.NoError(t, WriteTable(&table, r))
	assert.Contains(t, table.String(), "incomplete")
	assert.Contains(t, table.String(), "not judged: fault provider-hang")
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, r))
	assert.Contains(t, page.String(), "Incomplete: not judged, never a pass.")
	assert.True(t, strings.Contains(page.String(), `class="verdict big v-incomplete"`))
}
