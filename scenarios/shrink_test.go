package scenarios

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRuns fails "failover" when the schedule holds every fault of need.
func fakeRuns(need ...string) ShrinkRunner {
	return func(_ context.Context, f ScenarioFile) ([]string, error) {
		for _, n := range need {
			if !slices.Contains(f.Faults, n) {
				return nil, nil
			}
		}
		return []string{"failover"}, nil
	}
}

func TestShrink(t *testing.T) {
	full := ScenarioFile{Name: "nemesis", Seed: 7, Duration: "30s", Faults: []string{"a", "b", "c", "d", "e"}}
	tests := []struct {
		name string
		run  ShrinkRunner
		want []string
		err  string
	}{
		{name: "one fault is enough", run: fakeRuns("c"), want: []string{"c"}},
		{name: "two faults together", run: fakeRuns("b", "e"), want: []string{"b", "e"}},
		{name: "no fault needed", run: fakeRuns(), want: []string{}},
		{name: "does not reproduce", run: func(context.Context, ScenarioFile) ([]string, error) { return []string{"tls"}, nil },
			want: full.Faults, err: "does not reproduce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, steps, err := Shrink(context.Background(), full, []string{"failover"}, 50, tt.run)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, append([]string{}, got.Faults...))
			assert.Equal(t, full.Faults, steps[0].Faults, "the full schedule is run first")
			assert.Equal(t, int64(7), got.Seed, "same seed")
		})
	}
	// Every target must fail again: a schedule that fails only another
	// invariant is not the failure that was seen.
	both := func(_ context.Context, f ScenarioFile) ([]string, error) {
		var out []string
		if slices.Contains(f.Faults, "a") {
			out = append(out, "failover")
		}
		if slices.Contains(f.Faults, "d") {
			out = append(out, "responsiveness")
		}
		return out, nil
	}
	got, _, err := Shrink(context.Background(), full, []string{"failover", "responsiveness"}, 50, both)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "d"}, got.Faults)

	_, steps, err := Shrink(context.Background(), full, []string{"failover"}, 3, fakeRuns("e"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stopped after 3 runs")
	assert.Len(t, steps, 3, "the run bound holds")
}
