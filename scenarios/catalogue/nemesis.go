package catalogue

import (
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
)

// nemesisDuration is the catalogue's nemesis: long enough for a handful of
// faults, short enough for every make test.
const nemesisDuration = 30 * time.Second

// Nemesis: faults of every kind composed at random from the seed; `run
// --nemesis` shapes another one.
func Nemesis() scenarios.Scenario {
	spec, err := scenarios.Nemesis(scenarios.NemesisOptions{Duration: nemesisDuration})
	if err != nil {
		panic(fmt.Sprintf("catalogue: the default nemesis is invalid: %v", err)) // a programming error
	}
	return spec()
}

func init() { register(185, Nemesis) }
