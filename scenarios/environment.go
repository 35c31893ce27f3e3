package scenarios

import (
	"context"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/faults"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Environment is where one scenario runs: the lab the harness brings up
// (labEnv), or an operator's deployment (scenarios/deploy). The engine
// drives both through this interface and nothing else.
type Environment interface {
	// Meta is the history's header for this environment: mode, providers,
	// domains and whether providers report what they saw.
	Meta() history.Meta
	// Topology is the report's drawing of it, with users simulated users.
	Topology(users int) *reports.Topology
	// Load is the load's configuration for users simulated users; the
	// engine sets rate, duration, seed and progress counters.
	Load(users int) load.Config
	// Sink wraps the recorder where the environment rewrites or watches
	// what the load records (a balancer's backend name that stands for
	// the provider); most return rec.
	Sink(rec *history.Recorder) load.Sink
	// Faults is what the scenario's faults act on.
	Faults() faults.Env
	// Probe runs the environment's own probes after TLS and redirect (the
	// lab's stolen-cookie replay).
	Probe(ctx context.Context, lcfg load.Config, sink load.Sink) error
	// Watch samples the environment while the load runs (replication lag)
	// until ctx ends, and returns what it saw.
	Watch(ctx context.Context) []history.LagSample
	// Final reads the state the invariants need once load and faults
	// ended: the database pair, the clearing services, the balancer.
	Final(ctx context.Context, s FinalSpec) (history.Final, error)
	// Close releases what Open created.
	Close(ctx context.Context) error
}

// FinalSpec says what Final should wait for.
type FinalSpec struct {
	// Lag are the samples Watch took.
	Lag []history.LagSample
	// ConvergeBound bounds the wait for the masters to converge and for
	// the balancer's backends to be back in service.
	ConvergeBound time.Duration
	// Backends asks for the balancer's end state (not for scenarios that
	// end degraded by design).
	Backends bool
}

// Opener makes the environment of one scenario with the given number of
// users. The lab's opener brings up a fresh lab per scenario.
type Opener func(ctx context.Context, sc Scenario, users int) (Environment, error)

// Annotator is an Environment that adds to a judged scenario what the
// history does not hold (certificate expiry from its probes, a stop
// condition's verdict) and removes what must not be shown (secrets). The
// engine calls it last, after any error was recorded.
type Annotator interface {
	Annotate(sc *reports.Scenario, h *history.History)
}

// Stopper is an Environment with a stop condition: while a fault is in,
// the engine asks it about every 100 ms, and when it says stop every open
// fault is recovered at once and no further fault is injected.
type Stopper interface {
	Stop() bool
}
