package scenarios

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// Step places one fault in a scenario's time line.
type Step struct {
	// At is when the fault is injected, from the start of the load.
	At time.Duration
	// For is how long it lasts before Recover.
	For time.Duration
	// Jitter moves At by up to ±Jitter, chosen from the run's seed.
	Jitter time.Duration
	// Make builds the fault against the running lab.
	Make func(lab faults.Lab) faults.Fault
}

// Planned is a step with its time fixed by the seed.
type Planned struct {
	At, For time.Duration
	Fault   faults.Fault
}

// Plan fixes every step's time from the seed: the same seed always gives
// the same schedule. Steps come back ordered by injection time.
func Plan(steps []Step, seed int64, lab faults.Lab) ([]Planned, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7265676966792d76)) // "regify-v"
	out := make([]Planned, 0, len(steps))
	for i, s := range steps {
		if s.Make == nil {
			return nil, fmt.Errorf("fault step %d has no fault", i+1)
		}
		if s.For <= 0 {
			return nil, fmt.Errorf("fault step %d: duration %s must be positive", i+1, s.For)
		}
		at := s.At
		if s.Jitter > 0 {
			at += time.Duration(rng.Int64N(int64(2*s.Jitter)+1)) - s.Jitter
		}
		if at < 0 {
			at = 0
		}
		out = append(out, Planned{At: at, For: s.For, Fault: s.Make(lab)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out, nil
}
