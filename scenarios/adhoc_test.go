package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// TestAdHoc: fault specs become a scenario whose steps carry the timing
// knobs and the fault's own; bad specs name what is wrong.
func TestAdHoc(t *testing.T) {
	spec, err := AdHoc([]string{"provider-hang:provider=p2,at=1s,for=6s", "replication-delay:delay=1s,jitter=200ms"})
	require.NoError(t, err)
	sc := spec()
	require.Len(t, sc.Faults, 2)
	assert.Equal(t, Step{At: time.Second, For: 6 * time.Second, Fault: &faults.ProviderHang{Provider: "p2"}}, sc.Faults[0])
	assert.Equal(t, Step{At: defaultStepAt, For: defaultStepFor, Jitter: 200 * time.Millisecond,
		Fault: &faults.ReplicationDelay{Side: "b", Delay: time.Second}}, sc.Faults[1])
	assert.True(t, sc.NeedsDatabase, "replication-delay needs the pair")
	assert.Equal(t, 9*time.Second, sc.Duration, "the load outlasts the last fault by the settling tail")

	for spec, want := range map[string]string{
		"provider-hang:at=soon":         `at="soon" is not a duration`,
		"provider-hang:for=0s":          "for must be positive",
		"provider-hang:speed=3":         `has no knob "speed"`,
		"nope":                          `unknown fault "nope"`,
		"provider-hang:provider":        "is not knob=value",
		"provider-slow:latency=1s,at=-": `at="-" is not a duration`,
	} {
		_, err := AdHoc([]string{spec})
		assert.ErrorContains(t, err, want, spec)
	}
}
