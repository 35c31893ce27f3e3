package scenarios

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// clockFault records when it was injected and recovered.
type clockFault struct {
	name string
	mu   *sync.Mutex
	log  *[]string
}

func (f clockFault) Name() string      { return f.name }
func (f clockFault) Target() string    { return "p1" }
func (f clockFault) Kind() faults.Kind { return faults.Kind{Provider: true, Affects: "p1"} }
func (f clockFault) add(verb string) {
	f.mu.Lock()
	*f.log = append(*f.log, verb+" "+f.name)
	f.mu.Unlock()
}
func (f clockFault) Inject(context.Context, faults.Env) error  { f.add("inject"); return nil }
func (f clockFault) Recover(context.Context, faults.Env) error { f.add("recover"); return nil }

func TestPlanIsReproducibleFromTheSeed(t *testing.T) {
	steps := []Step{
		{At: time.Second, For: time.Second, Jitter: 500 * time.Millisecond, Fault: clockFault{name: "a"}},
		{At: 3 * time.Second, For: time.Second, Jitter: 500 * time.Millisecond, Fault: clockFault{name: "b"}},
	}
	at := func(seed int64) []time.Duration {
		p, err := Plan(steps, seed)
		require.NoError(t, err)
		return []time.Duration{p[0].At, p[1].At}
	}
	assert.Equal(t, at(7), at(7), "the same seed gives the same schedule")
	assert.NotEqual(t, at(7), at(8), "another seed moves the faults")
	for _, d := range at(9) {
		assert.True(t, d >= 500*time.Millisecond && d <= 3500*time.Millisecond, "jitter stays within its bound: %s", d)
	}
	_, err := Plan([]Step{{At: 0, For: 0, Fault: steps[0].Fault}}, 1)
	require.ErrorContains(t, err, "must be positive")
	_, err = Plan([]Step{{At: 0, For: time.Second}}, 1)
	require.ErrorContains(t, err, "has no fault")
}

// TestScheduleRecoversEveryInjectedFault: faults are injected in time order
// and recovered after their duration; when the run ends early, a fault still
// open is recovered at once and one not yet due is never injected.
func TestScheduleRecoversEveryInjectedFault(t *testing.T) {
	var mu sync.Mutex
	var log []string
	mk := func(n string) faults.Fault { return clockFault{name: n, mu: &mu, log: &log} }
	planned := []Planned{
		{At: 0, For: 30 * time.Millisecond, Fault: mk("a")},
		{At: 10 * time.Millisecond, For: time.Hour, Fault: mk("b")},
		{At: time.Hour, For: time.Second, Fault: mk("c")},
	}
	rec := history.NewRecorder(history.Meta{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.NoError(t, runSchedule(ctx, planned, time.Now(), faults.Injector{Rec: rec, Log: discardLogger()}, nil))
	assert.Equal(t, []string{"inject a", "inject b", "recover a", "recover b"}, log)
	h := rec.History()
	require.Len(t, h.Faults, 2, "c was never due")
	for _, f := range h.Faults {
		assert.False(t, f.Recovered.IsZero(), "%s recovered", f.Name)
		assert.Equal(t, "p1", f.Provider)
		assert.True(t, f.ProviderFault)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
