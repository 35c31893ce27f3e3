package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// TestConfigHash: the hash is stable for the same definitions and changes
// when anything that decides the outcome changes, names kept.
func TestConfigHash(t *testing.T) {
	base := func() Scenario {
		return Scenario{Name: "crash", Duration: 8 * time.Second,
			Faults: []Step{{At: 2 * time.Second, For: 5 * time.Second, Fault: faults.ProviderCrash{Provider: "p1"}}}}
	}
	hash := func(mod func(*Scenario), cfg Config) string {
		return Suite{Specs: []Spec{func() Scenario { s := base(); mod(&s); return s }}, Config: cfg}.configHash()
	}
	same := func(*Scenario) {}
	ref := hash(same, Config{Seed: 1})
	assert.Equal(t, ref, hash(same, Config{Seed: 1}), "same definitions, same hash")
	assert.Len(t, ref, 16)
	changes := map[string]func(*Scenario){
		"fault duration":   func(s *Scenario) { s.Faults[0].For = 3 * time.Second },
		"fault knob":       func(s *Scenario) { s.Faults[0].Fault = faults.ProviderCrash{Provider: "p2"} },
		"fault kind":       func(s *Scenario) { s.Faults[0].Fault = faults.ProviderHang{Provider: "p1"} },
		"load":             func(s *Scenario) { s.Duration = 9 * time.Second },
		"lab change":       func(s *Scenario) { s.Lab = func(o *harness.Options) { o.Balancer.RoundRobin = true } },
		"bounds":           func(s *Scenario) { s.Bounds = func(b *check.Bounds) { b.MaxRecovery = time.Minute } },
		"invariants":       func(s *Scenario) { s.Invariants = []string{check.NameFailover} },
		"required":         func(s *Scenario) { s.Requires = []string{check.NameFailover} },
		"negative control": func(s *Scenario) { s.Negative, s.ExpectFail = true, []string{check.NameFailover} },
	}
	for name, mod := range changes {
		assert.NotEqual(t, ref, hash(mod, Config{Seed: 1}), name)
	}
	assert.NotEqual(t, ref, hash(same, Config{Seed: 2}), "seed")
	assert.NotEqual(t, ref, hash(same, Config{Seed: 1, Users: 5}), "run's users")
}
