package scenarios

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Config is what a run gives every scenario.
type Config struct {
	Seed  int64
	RunID string
	// Base is the lab every scenario starts from (plan, database backend,
	// MariaDB image); scenarios change it. Used when Open is nil.
	Base harness.Options
	// Open makes each scenario's environment; nil brings up a lab from Base.
	Open Opener
	// Users, Rate and Duration override every scenario's load when set.
	Users    int
	Rate     int
	Duration time.Duration
	// HistoryDir, when set, receives each scenario's history as
	// <scenario>.jsonl, streamed while it runs.
	HistoryDir string
	// Counters, when set, is updated by the load for progress lines.
	Counters *load.Counters
	// Load, when set, runs each scenario's load instead of this process
	// (agents: run --agents); the probes stay here.
	Load   LoadDriver
	Logger *slog.Logger
}

// Result is one executed scenario.
type Result struct {
	Report  reports.Scenario
	History *history.History
}

// Execute runs one scenario: open its environment, probe it, drive load
// and faults through it, settle and read the final state, judge. Each phase
// is a method of run below, in this order; an error means the scenario
// could not be judged, and the result says why.
func Execute(ctx context.Context, spec Spec, cfg Config) (Result, error) {
	r := newRun(spec(), cfg)
	err := r.execute(ctx)
	r.res.Report.Ended = time.Now()
	if err != nil {
		r.res.Report.Error = err.Error()
	}
	if r.res.History == nil && r.rec != nil {
		// Stopped before it settled: what was recorded until then, faults
		// and their recoveries included.
		r.res.History = r.rec.History()
	}
	if a, ok := r.env.(Annotator); ok {
		a.Annotate(&r.res.Report, r.res.History)
	}
	return r.res, err
}

func (r *run) execute(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	defer r.close(ctx)
	if err := r.prepare(ctx); err != nil {
		return err
	}
	if err := r.record(); err != nil {
		return err
	}
	defer r.stopRecording()
	if err := r.probe(ctx); err != nil {
		return err
	}
	if err := r.drive(ctx); err != nil {
		return err
	}
	if err := r.settle(ctx); err != nil {
		return err
	}
	r.judge()
	return nil
}

// run is one scenario on its way through the phases.
type run struct {
	sc    Scenario
	cfg   Config
	log   *slog.Logger
	users int
	rate  int
	dur   time.Duration

	env    Environment
	opened time.Time
	labUp  time.Duration
	rec    *history.Recorder
	sink   load.Sink
	lcfg   load.Config
	// closeHistory flushes and closes the streamed history, if any.
	closeHistory func()
	lag          []history.LagSample
	measure      map[string]float64
	res          Result

	arrivals  load.Arrivals // the schedule's offered and dropped arrivals
	loadStart time.Time

	mu       sync.Mutex
	injected []faults.Injected // every fault the schedule or drill injected
}

// newRun settles the scenario's load from the run's overrides, the
// scenario's own values and the defaults, in that order.
func newRun(sc Scenario, cfg Config) *run {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &run{sc: sc, cfg: cfg, log: log.With("scenario", sc.Name),
		users: pick(cfg.Users, sc.Users, DefaultUsers), rate: pick(cfg.Rate, sc.Rate, DefaultRate), dur: sc.Duration}
	if cfg.Duration > 0 {
		r.dur = cfg.Duration
	}
	if r.dur <= 0 {
		r.dur = DefaultDuration
	}
	r.res.Report = reports.Scenario{Name: sc.Name, Description: sc.Description, Started: time.Now(),
		Negative: sc.Negative, Expect: sc.ExpectFail}
	return r
}

// open brings up (or connects to) the scenario's environment.
func (r *run) open(ctx context.Context) error {
	r.opened = time.Now()
	opener := r.cfg.Open
	if opener == nil {
		base := r.cfg.Base
		base.RunID = fmt.Sprintf("%s-%s", r.cfg.RunID, FileName(r.sc.Name))
		if base.Logger == nil {
			base.Logger = r.log
		}
		opener = LabOpener(base)
	}
	env, err := opener(ctx, r.sc, r.users)
	if err != nil {
		return err
	}
	r.env = env
	r.res.Report.Topology = env.Topology(r.users)
	return nil
}

func (r *run) close(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := r.env.Close(cctx); err != nil {
		r.log.Warn("environment teardown", "err", err)
	}
}

// prepare runs the scenario's own set-up, which needs the lab.
func (r *run) prepare(ctx context.Context) error {
	r.labUp = time.Since(r.opened)
	if r.sc.Prepare == nil {
		return nil
	}
	lab, err := r.lab("prepare")
	if err != nil {
		return err
	}
	if err := r.sc.Prepare(ctx, lab); err != nil {
		return fmt.Errorf("prepare %s: %w", r.sc.Name, err)
	}
	return nil
}

// lab is the harness's lab of a lab run; a deployment has none.
func (r *run) lab(what string) (*harness.Lab, error) {
	if le, ok := r.env.(*labEnv); ok {
		return le.lab, nil
	}
	return nil, fmt.Errorf("scenario %s: its %s needs the built-in lab, not a deployment", r.sc.Name, what)
}

// record starts the history, streamed to HistoryDir when set. The
// scenario's clock starts here: timelines show the load, not the set-up.
func (r *run) record() error {
	started := time.Now()
	r.res.Report.Started = started
	meta := r.env.Meta()
	meta.RunID, meta.Scenario, meta.Seed, meta.Started = r.cfg.RunID, r.sc.Name, r.cfg.Seed, started
	r.lcfg = r.env.Load(r.users)
	meta.Session = r.lcfg.SessionFlow().Facts()
	meta.Load = r.dur
	r.rec = history.NewRecorder(meta)
	r.sink = r.env.Sink(r.rec)
	r.lcfg.Rate, r.lcfg.Duration, r.lcfg.Seed = r.rate, r.dur, r.cfg.Seed
	r.lcfg.Counters, r.lcfg.Logger, r.lcfg.Arrivals = r.cfg.Counters, r.log, &r.arrivals
	if r.cfg.HistoryDir == "" {
		return nil
	}
	f, err := os.Create(filepath.Join(r.cfg.HistoryDir, FileName(r.sc.Name)+".jsonl"))
	if err != nil {
		return fmt.Errorf("create history file: %w", err)
	}
	if err := r.rec.StreamTo(f); err != nil {
		f.Close()
		return fmt.Errorf("stream history: %w", err)
	}
	// Whatever happens, what was recorded reaches the file; while the run
	// goes it is flushed every second so a crash loses little.
	stopFlush := flushEvery(r.rec, time.Second)
	r.closeHistory = func() { stopFlush(); _ = r.rec.Flush(); _ = f.Close() }
	return nil
}

func (r *run) stopRecording() {
	if r.closeHistory != nil {
		r.closeHistory()
	}
}

// probe checks TLS per name and the http→https redirect, then runs the
// environment's own probes.
func (r *run) probe(ctx context.Context) error {
	if err := load.ProbeTLS(ctx, r.lcfg, r.sink); err != nil {
		return fmt.Errorf("tls probe: %w", err)
	}
	if rcfg := withHTTP(r.lcfg); len(rcfg.Domains) > 0 {
		if err := load.ProbeRedirect(ctx, rcfg, r.sink); err != nil {
			return fmt.Errorf("redirect probe: %w", err)
		}
	}
	return r.env.Probe(ctx, r.lcfg, r.sink)
}

// drive runs the load and, beside it, the fault schedule or the drill and
// the environment's watcher. The schedule ends with the load: a fault
// still open then is recovered at once.
func (r *run) drive(ctx context.Context) error {
	steps, err := r.sc.Steps(r.cfg.Seed, r.dur)
	if err != nil {
		return err
	}
	planned, err := Plan(steps, r.cfg.Seed)
	if err != nil {
		return err
	}
	r.res.Report.Schedule, r.res.Report.Load = schedule(planned), r.dur
	r.res.Report.ScheduleDrawn = r.sc.Draw != nil
	in := faults.Injector{Env: r.env.Faults(), Rec: r.rec, Log: r.log, OnInject: func(i faults.Injected) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.injected = append(r.injected, i)
	}}
	var drill *DrillEnv
	if r.sc.Drill != nil {
		lab, err := r.lab("drill")
		if err != nil {
			return err
		}
		drill = &DrillEnv{Lab: lab, Duration: r.dur, in: in}
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.lag = r.env.Watch(runCtx) }()
	// The schedule and the timeline start when the load does: agents
	// may take seconds to start and connect before it (containers, pods),
	// and a fault injected before any request would bite nobody.
	began := make(chan time.Time, 1)
	var once sync.Once
	r.lcfg.OnStart = func() { once.Do(func() { began <- time.Now() }) }
	defer func() { r.lcfg.OnStart = nil }()
	driveStart := time.Now()
	var start time.Time
	var faultErr error
	schedCtx, stopSched := context.WithCancel(runCtx)
	defer stopSched()
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case start = <-began:
		case <-schedCtx.Done():
			return // the load never began
		}
		if drill != nil {
			drill.Start = start
			r.measure, faultErr = r.sc.Drill(schedCtx, drill)
			if faultErr != nil {
				faultErr = fmt.Errorf("drill: %w", faultErr)
			}
			return
		}
		var stop func() bool
		if st, ok := r.env.(Stopper); ok {
			stop = st.Stop
		}
		faultErr = runSchedule(schedCtx, planned, start, in, stop)
	}()
	loadErr := r.runLoad(runCtx)
	stopSched()
	stopRun()
	wg.Wait()
	if start.IsZero() {
		select {
		case start = <-began: // it began as the schedule was cancelled
		default:
			start = driveStart // it never began
		}
	}
	r.loadStart = start
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("scenario %s interrupted: %w", r.sc.Name, ctx.Err())
	case loadErr != nil:
		return fmt.Errorf("load: %w", loadErr)
	}
	return faultErr
}

// runLoad runs the load here, or through the run's LoadDriver.
func (r *run) runLoad(ctx context.Context) error {
	if r.cfg.Load == nil {
		return load.Run(ctx, r.lcfg, r.sink)
	}
	ca, ok := r.env.(interface{ CAPEM() []byte })
	if !ok {
		return fmt.Errorf("scenario %s: its environment cannot hand its trust roots to agents; run without agents", r.sc.Name)
	}
	agents, err := r.cfg.Load.Drive(ctx, r.lcfg, ca.CAPEM(), r.sink)
	r.res.Report.Agents = agents
	return err
}

// LoadDriver runs a scenario's load elsewhere and adds every request to
// the sink (agents.Driver).
type LoadDriver interface {
	Drive(ctx context.Context, cfg load.Config, caPEM []byte, sink load.Sink) ([]reports.Agent, error)
}

// settle waits for the environment to converge and reads its final state
// into the history.
func (r *run) settle(ctx context.Context) error {
	bound := r.sc.ConvergeBound
	if bound == 0 {
		bound = ConvergeBound
	}
	final, err := r.env.Final(ctx, FinalSpec{Lag: r.lag, ConvergeBound: bound, Backends: !r.sc.EndsDegraded})
	if err != nil {
		return err
	}
	if final.Measures == nil {
		final.Measures = map[string]float64{}
	}
	for k, v := range r.measure {
		final.Measures[k] = v
	}
	if _, lab := r.env.(*labEnv); lab {
		final.Measures["lab_up_seconds"] = r.labUp.Seconds()
	}
	sofar := r.rec.History()
	// Offered and achieved load side by side: a stalled user does not
	// lower what was offered, only what was achieved.
	if secs := r.dur.Seconds(); secs > 0 && r.arrivals.Offered > 0 {
		final.Measures["offered_rps"] = float64(r.arrivals.Offered) / secs
		final.Measures["achieved_rps"] = float64(completed(sofar.Requests, r.loadStart.Add(r.dur))) / secs
		final.Measures["dropped_arrivals"] = float64(r.arrivals.Dropped)
	}
	r.rec.SetMeta(answered(sofar.Meta, sofar.Requests))
	if err := r.rec.Finish(time.Now(), final); err != nil {
		return fmt.Errorf("finish history: %w", err)
	}
	r.res.History = r.rec.History()
	return nil
}

// judge runs the scenario's invariants on the history, then earns the
// verdict: every fault must have taken effect and every invariant the
// scenario exists for must have been judged, else it is not judged.
func (r *run) judge() {
	h := r.res.History
	rep := &r.res.Report
	rep.Invariants = check.Run(h, r.sc.invariants())
	rep.Timeline = check.Timeline(h, TimelineBucket(r.dur))
	rep.Faults = check.FaultWindows(h)
	rep.Measures = h.Final.Measures
	r.mu.Lock()
	injected := slices.Clone(r.injected)
	r.mu.Unlock()
	rep.NotJudged = append(rep.NotJudged, faultsBit(h, injected, rep.Faults)...)
	rep.NotJudged = append(rep.NotJudged, requiredJudged(r.sc.Requires, rep.Invariants)...)
}

// flushEvery flushes the recorder's stream until the returned func is called.
func flushEvery(rec *history.Recorder, d time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = rec.Flush()
			}
		}
	}()
	return func() { close(done); <-finished }
}

// withHTTP keeps the domains that have a plain-http URL to probe.
func withHTTP(c load.Config) load.Config {
	c.Domains = slices.DeleteFunc(slices.Clone(c.Domains), func(d history.Domain) bool { return d.HTTP == "" })
	return c
}

// answered completes meta from the responses when the environment could
// not say in advance: the providers that answered (a deployment's backends
// name themselves) and whether any reported what it saw.
func answered(meta history.Meta, reqs []history.Request) history.Meta {
	known := len(meta.Providers) > 0
	for i := range reqs {
		r := &reqs[i]
		if !known && r.Provider != "" && !slices.Contains(meta.Providers, r.Provider) {
			meta.Providers = append(meta.Providers, r.Provider)
		}
		if r.Seen != nil {
			meta.ProviderShowsSeen = true
		}
	}
	if !known {
		slices.Sort(meta.Providers)
	}
	return meta
}

// completed counts the load's requests (those with a schedule) that ended
// by the given time: the achieved load.
func completed(reqs []history.Request, by time.Time) int {
	n := 0
	for i := range reqs {
		r := &reqs[i]
		if !r.Scheduled.IsZero() && !r.Start.Add(r.Latency).After(by) {
			n++
		}
	}
	return n
}
