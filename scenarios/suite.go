package scenarios

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// Suite runs several scenarios and gathers their results into one report,
// in the order of Specs whatever order they finished in. When ctx ends it
// starts no further scenario and marks the report incomplete.
type Suite struct {
	Specs  []Spec
	Config Config
	// Parallel is how many scenarios run at once; 0 or 1 runs them one
	// after another. Each concurrent scenario has a lane of its own: lane
	// k's lab lives on 127.k.x.y (harness.Plan.OnLane), so labs side by
	// side never share an address, a port or a container name.
	Parallel int
	// DatabaseParallel bounds the scenarios with a MariaDB pair among them
	// (0: DefaultDatabaseParallel); they are started first.
	DatabaseParallel int
	// Command is the command line that started the run, for the report's
	// reproducibility block.
	Command string
	// OnScenario, when set, is called as each scenario starts (done nil)
	// and ends (done holds its result, verdict set). With Parallel above 1
	// it is called from several goroutines.
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
	done, interrupted := s.runAll(ctx)
	for _, sc := range done {
		if sc != nil {
			r.Scenarios = append(r.Scenarios, *sc)
		}
	}
	r.Incomplete = interrupted
	r.Ended = time.Now()
	r.Finish()
	return r
}

// runAll runs the scenarios on up to Parallel lanes and returns their
// results by index (nil for one never started) and whether ctx ended
// before every scenario had run.
func (s Suite) runAll(ctx context.Context) ([]*reports.Scenario, bool) {
	results := make([]*reports.Scenario, len(s.Specs))
	stopped := make([]bool, len(s.Specs))
	plan := s.lanePlan()
	base, done := withPairPool(ctx, s.Config, s.Specs, min(plan.heavyMax, max(plan.parallel, 1)))
	defer done()
	started := onLanes(ctx, len(s.Specs), plan, func(i, lane int) {
		cfg := base
		cfg.Base.Lane = lane
		results[i], stopped[i] = s.runOne(ctx, s.Specs[i], cfg)
	})
	return results, started < len(s.Specs) || slices.Contains(stopped, true)
}

// lanePlan is how the suite's scenarios share the machine.
func (s Suite) lanePlan() lanePlan {
	return newLanePlan(s.Specs, s.Parallel, s.DatabaseParallel, s.Config.Open != nil, s.Config.Duration)
}

// newLanePlan bounds the scenarios with a database pair to dbParallel at
// once (0: the default). A deployment's scenarios (custom opener) have no
// lab of ours to weigh and share its one database: they are all heavy. A
// scenario costs its load's duration: duration when set (--duration),
// else its own or the default, as the engine runs it.
func newLanePlan(specs []Spec, parallel, dbParallel int, deployment bool, duration time.Duration) lanePlan {
	if dbParallel <= 0 {
		dbParallel = DefaultDatabaseParallel
	}
	heavy := make([]bool, len(specs))
	solo := make([]bool, len(specs))
	cost := make([]time.Duration, len(specs))
	for i, spec := range specs {
		sc := spec()
		heavy[i] = deployment || sc.NeedsDatabase
		solo[i] = !deployment && sc.Disruptive
		switch {
		case duration > 0:
			cost[i] = duration
		case sc.Duration > 0:
			cost[i] = sc.Duration
		default:
			cost[i] = DefaultDuration
		}
	}
	return lanePlan{parallel: parallel, heavy: func(i int) bool { return heavy[i] }, heavyMax: dbParallel,
		solo: func(i int) bool { return solo[i] }, cost: func(i int) time.Duration { return cost[i] }}
}

// runOne runs one scenario and says whether ctx stopped it.
func (s Suite) runOne(ctx context.Context, spec Spec, cfg Config) (*reports.Scenario, bool) {
	name := spec().Name
	if s.OnScenario != nil {
		s.OnScenario(name, nil)
	}
	res, err := Execute(ctx, spec, cfg)
	sc := res.Report
	sc.Judge()
	if s.OnScenario != nil {
		s.OnScenario(name, &sc)
	}
	return &sc, err != nil && ctx.Err() != nil
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
