package reports

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestColumns(t *testing.T) {
	scenarios := []Scenario{
		{Name: "a", Invariants: []Invariant{{Name: "tls"}, {Name: "custom"}, {Name: "stickiness"}}},
		{Name: "b", Invariants: []Invariant{{Name: "redirect"}, {Name: "tls"}}},
		{Name: "neg", Negative: true, Expect: []string{"failover"}, Invariants: []Invariant{{Name: "redirect"}}},
	}
	cases := []struct {
		name  string
		order []string
		want  []string
	}{
		{"no order (older report.json): first appearance", nil,
			[]string{"tls", "custom", "stickiness", "redirect", "failover"}},
		{"order first, unknown names after in order of appearance", []string{"stickiness", "redirect", "tls", "failover", "clearing"},
			[]string{"stickiness", "redirect", "tls", "failover", "custom"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, columns(&Report{Scenarios: scenarios, InvariantOrder: tc.order}))
		})
	}
}

func TestInvariantOrderRoundTrips(t *testing.T) {
	r := fixtureReport()
	r.InvariantOrder = []string{"stickiness", "tls"}
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, r))
	assert.Contains(t, b.String(), `"invariant_order": [`)
	back, err := DecodeJSON(&b, "report.json")
	require.NoError(t, err)
	assert.Equal(t, r.InvariantOrder, back.InvariantOrder)
}
