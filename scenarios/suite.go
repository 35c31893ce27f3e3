package scenarios

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// Suite runs several scenarios one after another and gathers their results
// into one report. When ctx ends it stops after the current scenario and
// marks the report incomplete.
type Suite struct {
	Specs  []Spec
	Config Config
	// Command is the command line that started the run, for the report's
	// reproducibility block.
	Command string
	// OnScenario, when set, is called as each scenario starts and ends.
	OnScenario func(name string, done *reports.Scenario)
	// Mode is the report's mode: "lab" (the default) or "target".
	Mode string
	// ConfigHash, when set, replaces the hash of the lab's configuration.
	ConfigHash string
}

// Run executes the suite and returns its report (never nil).
func (s Suite) Run(ctx context.Context) *reports.Report {
	r := &reports.Report{
		Schema: reports.Schema, RunID: s.Config.RunID, Seed: s.Config.Seed, Mode: s.mode(),
		Started: time.Now(), InvariantOrder: check.Names(),
		Repro: reports.Repro{
			Command: s.Command, Version: Version(), GoVersion: runtime.Version(),
			ConfigHash: s.ConfigHash,
		},
	}
	if r.Repro.ConfigHash == "" {
		r.Repro.ConfigHash = s.configHash()
	}
	for _, spec := range s.Specs {
		name := spec().Name
		if ctx.Err() != nil {
			r.Incomplete = true
			break
		}
		if s.OnScenario != nil {
			s.OnScenario(name, nil)
		}
		res, err := Execute(ctx, spec, s.Config)
		if err != nil && ctx.Err() != nil {
			r.Incomplete = true
		}
		r.Scenarios = append(r.Scenarios, res.Report)
		r.Finish() // judge what ran so far, for the progress line
		if s.OnScenario != nil {
			s.OnScenario(name, &r.Scenarios[len(r.Scenarios)-1])
		}
	}
	r.Ended = time.Now()
	r.Finish()
	return r
}

// configHash names what decides the outcome: scenarios, seed and load.
func (s Suite) configHash() string {
	var b strings.Builder
	for _, spec := range s.Specs {
		b.WriteString(spec().Fingerprint())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "seed=%d users=%d rate=%d duration=%s db=%s image=%s",
		s.Config.Seed, s.Config.Users, s.Config.Rate, s.Config.Duration, s.Config.Base.DB.Backend, s.Config.Base.DB.Image)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

func (s Suite) mode() string {
	if s.Mode == "" {
		return "lab"
	}
	return s.Mode
}
