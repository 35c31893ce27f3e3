package scenarios

import (
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/scenarios/faults"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNemesisDrawIsFromTheSeedAlone(t *testing.T) {
	o, err := NemesisOptions{Duration: 2 * time.Minute}.withDefaults()
	require.NoError(t, err)
	a, err := drawNemesis(7, o.Duration, o)
	require.NoError(t, err)
	b, err := drawNemesis(7, o.Duration, o)
	require.NoError(t, err)
	specs := func(steps []Step) []string {
		pl, err := Plan(steps, 7)
		require.NoError(t, err)
		var out []string
		for _, p := range pl {
			out = append(out, SpecOf(p))
		}
		return out
	}
	assert.Equal(t, specs(a), specs(b), "same seed, same schedule")
	c, err := drawNemesis(8, o.Duration, o)
	require.NoError(t, err)
	assert.NotEqual(t, specs(a), specs(c), "another seed, another schedule")
	assert.GreaterOrEqual(t, len(a), 6, "about six faults a minute, less what does not fit")
	kinds := map[string]bool{}
	for _, st := range a {
		kinds[st.Fault.Name()] = true
	}
	assert.GreaterOrEqual(t, len(kinds), 3, "several kinds of fault: %v", kinds)
}

func TestNemesisScheduleIsBounded(t *testing.T) {
	o, err := NemesisOptions{Duration: 90 * time.Second, Intensity: 30}.withDefaults()
	require.NoError(t, err)
	for seed := int64(1); seed <= 50; seed++ {
		steps, err := drawNemesis(seed, o.Duration, o)
		require.NoError(t, err)
		ends := map[lane]time.Duration{}
		for _, st := range steps { // sorted by At
			end := st.At + st.For
			assert.GreaterOrEqual(t, st.At, o.Duration*15/100, "seed %d: starts after the users logged in", seed)
			assert.LessOrEqual(t, end, o.Duration*75/100, "seed %d: healed well before the end", seed)
			assert.LessOrEqual(t, st.For, o.MaxHold, "seed %d: held at most max_hold", seed)
			assert.Zero(t, st.Jitter, "the drawn time is the time")
			if st.Fault.Kind().Provider {
				assert.GreaterOrEqual(t, st.For, ProviderFaultFor, "seed %d: a provider fault outlasts timeout and health bound", seed)
			}
			// Faults of one lane never overlap: providers are never both
			// out, and no replication fault heals on a frozen master.
			for _, l := range lanesOf(st.Fault) {
				if l == laneOther {
					continue
				}
				assert.GreaterOrEqual(t, st.At, ends[l], "seed %d: %s at %s overlaps the lane's previous fault", seed, st.Fault.Name(), st.At)
				ends[l] = end
			}
		}
	}
}

// TestNemesisKeepsReplicationOffFrozenMasters: a database server's own
// fault takes the database lane too, so the seed that once drew a
// replication-cut healing on a paused master (seed 204) no longer can.
func TestNemesisKeepsReplicationOffFrozenMasters(t *testing.T) {
	assert.Equal(t, []lane{laneProvider, laneDatabase}, lanesOf(faults.DBPause{Side: "b"}))
	assert.Equal(t, []lane{laneDatabase}, lanesOf(faults.ReplicationCut{}))
	assert.Equal(t, []lane{laneProvider}, lanesOf(faults.BalancerRestart{}))
	o, err := NemesisOptions{Duration: 40 * time.Second}.withDefaults()
	require.NoError(t, err)
	steps, err := drawNemesis(204, o.Duration, o)
	require.NoError(t, err)
	for i, a := range steps {
		for _, b := range steps[i+1:] {
			if a.Fault.Kind().Database && b.Fault.Kind().Database {
				assert.LessOrEqual(t, a.At+a.For, b.At, "%s and %s overlap", a.Fault.Name(), b.Fault.Name())
			}
		}
	}
}

func TestNemesisOptions(t *testing.T) {
	o, lab, err := ParseNemesis("faults=provider-crash+replication-cut, intensity=3, max_hold=6s, lab=neg-no-health-checks")
	require.NoError(t, err)
	assert.Equal(t, []string{"provider-crash", "replication-cut"}, o.Faults)
	assert.Equal(t, 3.0, o.Intensity)
	assert.Equal(t, 6*time.Second, o.MaxHold)
	assert.Equal(t, "neg-no-health-checks", lab)

	for spec, want := range map[string]string{
		"intensity=0":         "above 0",
		"max_hold=soon":       "want a duration",
		"colour=red":          "unknown key \"colour\"",
		"faults":              "is not key=value",
		"faults=provider-cat": "unknown fault \"provider-cat\"",
		"faults=hook":         "cannot be drawn",
		"max_hold=2s":         "at least 5s",
	} {
		o, _, err := ParseNemesis(spec)
		if err == nil {
			_, err = Nemesis(o)
		}
		require.Error(t, err, spec)
		assert.Contains(t, err.Error(), want, spec)
	}
	_, err = drawNemesis(1, 4*time.Second, NemesisOptions{Faults: []string{"provider-crash"}, Intensity: 6, MaxHold: 8 * time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "give a longer --duration")
}

// TestNemesisAimsWhereTheClientsAre: once an outage has moved every
// client to one provider, the faults aimed at a provider (or its master)
// hit that one, so each can bite.
func TestNemesisAimsWhereTheClientsAre(t *testing.T) {
	o, err := NemesisOptions{Duration: 2 * time.Minute}.withDefaults()
	require.NoError(t, err)
	for seed := int64(1); seed <= 30; seed++ {
		steps, err := drawNemesis(seed, o.Duration, o)
		require.NoError(t, err)
		holder := ""
		for _, st := range steps {
			target := ""
			for _, kn := range faults.KnobValues(st.Fault) {
				switch {
				case kn.Name == "provider":
					target = kn.Value
				case kn.Name == "side" && st.Fault.Kind().Provider:
					target = map[string]string{"a": "p1", "b": "p2"}[kn.Value]
				}
			}
			if holder != "" && target != "" {
				assert.Equal(t, holder, target, "seed %d: %s at %s aimed at %s while the clients are on %s", seed, st.Fault.Name(), st.At, target, holder)
			}
			if k := st.Fault.Kind(); k.Provider && k.Affects != "" {
				holder = otherProvider(k.Affects)
			}
		}
	}
}
