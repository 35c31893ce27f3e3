package scenarios

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Config is what a run gives every scenario.
type Config struct {
	Seed  int64
	RunID string
	// Base is the lab every scenario starts from (plan, database backend,
	// MariaDB image); scenarios change it.
	Base harness.Options
	// Users, Rate and Duration override every scenario's load when set.
	Users    int
	Rate     int
	Duration time.Duration
	// HistoryDir, when set, receives each scenario's history as
	// <scenario>.jsonl, streamed while it runs.
	HistoryDir string
	// Counters, when set, is updated by the load for progress lines.
	Counters *load.Counters
	Logger   *slog.Logger
}

// Defaults of the load when neither the scenario nor the run says.
const (
	defaultUsers    = 12
	defaultRate     = 60
	defaultDuration = 6 * time.Second
)

// convergeBound is how long the run waits after the last fault for the two
// masters to hold the same rows.
const convergeBound = 15 * time.Second

// checkedTables are the provider's tables compared between the masters.
var checkedTables = []string{"messages", "sessions"}

// replayBarrierBound bounds the wait for the replay probe's rotation to
// replicate (milliseconds in a healthy pair).
const replayBarrierBound = 5 * time.Second

// Result is one executed scenario.
type Result struct {
	Report  reports.Scenario
	History *history.History
}

// Execute brings up the scenario's lab, drives load and faults through it,
// reads the final state, judges it and tears the lab down. An error means
// the scenario could not be judged; the result then says why.
func Execute(ctx context.Context, spec Spec, cfg Config) (res Result, err error) {
	sc := spec()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("scenario", sc.Name)
	started := time.Now()
	res.Report = reports.Scenario{
		Name: sc.Name, Description: sc.Description, Started: started,
		Negative: sc.Negative, Expect: sc.ExpectFail,
	}
	defer func() {
		res.Report.Ended = time.Now()
		if err != nil {
			res.Report.Error = err.Error()
		}
	}()

	opts := cfg.Base
	opts.RunID = fmt.Sprintf("%s-%s", cfg.RunID, shortName(sc.Name))
	if opts.Logger == nil {
		opts.Logger = log
	}
	if sc.NeedsDatabase {
		opts.Database = harness.DatabasePair
	}
	if sc.Lab != nil {
		sc.Lab(&opts)
	}
	users, rate, dur := pick(cfg.Users, sc.Users, defaultUsers), pick(cfg.Rate, sc.Rate, defaultRate), sc.Duration
	if cfg.Duration > 0 {
		dur = cfg.Duration
	}
	if dur <= 0 {
		dur = defaultDuration
	}
	if len(opts.Plan.Domains) == 0 || len(opts.Plan.Clients) < users {
		p, perr := harness.DefaultPlan(users, false)
		if perr != nil {
			return res, perr
		}
		opts.Plan = p
	}

	lab, err := harness.Up(ctx, opts)
	if err != nil {
		return res, fmt.Errorf("bring up the lab for %s: %w", sc.Name, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if cerr := lab.Close(cctx); cerr != nil {
			log.Warn("lab teardown", "err", cerr)
		}
	}()
	res.Report.Topology = topology(lab, users)
	labUp := time.Since(started)
	if sc.Prepare != nil {
		if err := sc.Prepare(ctx, lab); err != nil {
			return res, fmt.Errorf("prepare %s: %w", sc.Name, err)
		}
	}

	// The scenario's clock starts when the lab is up: timelines show the
	// load, not the set-up.
	started = time.Now()
	res.Report.Started = started
	meta := history.Meta{
		RunID: cfg.RunID, Scenario: sc.Name, Seed: cfg.Seed, Started: started,
		Mode: lab.Options().Mode, Providers: lab.Options().Plan.ProviderIDs(), ProviderShowsSeen: true,
	}
	for _, e := range lab.Endpoints() {
		meta.Domains = append(meta.Domains, history.Domain{Name: e.Name, PublicIP: e.PublicIP.String(), HTTPS: e.HTTPS, HTTP: e.HTTP})
	}
	rec := history.NewRecorder(meta)
	if cfg.HistoryDir != "" {
		f, ferr := os.Create(filepath.Join(cfg.HistoryDir, shortName(sc.Name)+".jsonl"))
		if ferr != nil {
			return res, fmt.Errorf("create history file: %w", ferr)
		}
		defer f.Close()
		if err := rec.StreamTo(f); err != nil {
			return res, fmt.Errorf("stream history: %w", err)
		}
		// Whatever happens, what was recorded reaches the file; while the
		// run goes it is flushed every second so a crash loses little.
		defer func() { _ = rec.Flush() }()
		stopFlush := flushEvery(rec, time.Second)
		defer stopFlush()
	}

	lcfg := load.Config{
		Users: users, SourceIPs: lab.Options().Plan.Clients[:users], Domains: meta.Domains,
		Rate: rate, Duration: dur, Password: lab.Options().Password, CA: lab.Roots(),
		Timeout: 3 * time.Second, Seed: cfg.Seed, Counters: cfg.Counters, Logger: log,
	}
	if err := load.ProbeTLS(ctx, lcfg, rec); err != nil {
		return res, fmt.Errorf("tls probe: %w", err)
	}
	if err := load.ProbeRedirect(ctx, lcfg, rec); err != nil {
		return res, fmt.Errorf("redirect probe: %w", err)
	}
	if pair := lab.Pair(); pair != nil {
		lcfg.ReplayBarrier = func(ctx context.Context) error {
			return pair.WaitConverged(ctx, []string{"sessions"}, replayBarrierBound)
		}
	}
	if err := load.ProbeReplay(ctx, lcfg, rec); err != nil {
		return res, fmt.Errorf("replay probe: %w", err)
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var wg sync.WaitGroup
	var lag lagSampler
	if pair := lab.Pair(); pair != nil {
		wg.Add(1)
		go func() { defer wg.Done(); lag.run(runCtx, pair) }()
	}
	loadStart := time.Now()
	var faultErr, drillErr error
	var measures map[string]float64
	fa := faultLab{lab}
	planned, err := Plan(sc.Faults, cfg.Seed, fa)
	if err != nil {
		return res, err
	}
	// The schedule ends with the load: a fault still open then is
	// recovered at once.
	schedCtx, stopSched := context.WithCancel(runCtx)
	defer stopSched()
	var fwg sync.WaitGroup
	fwg.Add(1)
	go func() {
		defer fwg.Done()
		if sc.Drill != nil {
			measures, drillErr = sc.Drill(schedCtx, &DrillEnv{Lab: lab, Recorder: rec, Start: loadStart, Duration: dur})
			return
		}
		faultErr = runSchedule(schedCtx, planned, loadStart, rec, log)
	}()
	loadErr := load.Run(runCtx, lcfg, rec)
	stopSched()
	fwg.Wait()
	stopRun()
	wg.Wait()
	if ctx.Err() != nil {
		return res, fmt.Errorf("scenario %s interrupted: %w", sc.Name, ctx.Err())
	}
	if loadErr != nil {
		return res, fmt.Errorf("load: %w", loadErr)
	}
	if faultErr != nil {
		return res, faultErr
	}
	if drillErr != nil {
		return res, fmt.Errorf("drill: %w", drillErr)
	}

	bound := sc.ConvergeBound
	if bound == 0 {
		bound = convergeBound
	}
	final, err := finalState(ctx, lab, lag.samples(), bound, !sc.EndsDegraded)
	if err != nil {
		return res, err
	}
	if final.Measures == nil {
		final.Measures = map[string]float64{}
	}
	for k, v := range measures {
		final.Measures[k] = v
	}
	final.Measures["lab_up_seconds"] = labUp.Seconds()
	if err := rec.Finish(time.Now(), final); err != nil {
		return res, fmt.Errorf("finish history: %w", err)
	}
	h := rec.History()
	res.History = h
	res.Report.Invariants = check.Run(h, sc.invariants())
	res.Report.Timeline = check.Timeline(h, timelineBucket(dur))
	res.Report.Faults = check.FaultWindows(h)
	res.Report.Measures = final.Measures
	return res, nil
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

func pick(run, scenario, def int) int {
	switch {
	case run > 0:
		return run
	case scenario > 0:
		return scenario
	}
	return def
}

func timelineBucket(d time.Duration) time.Duration {
	b := d / 60
	if b < 100*time.Millisecond {
		b = 100 * time.Millisecond
	}
	return b.Round(100 * time.Millisecond)
}

func shortName(name string) string {
	return strings.NewReplacer(" ", "-", "/", "-").Replace(name)
}

// runSchedule injects and recovers the planned faults at their times. A
// fault that was injected is always recovered, also when ctx ends.
func runSchedule(ctx context.Context, planned []Planned, start time.Time, rec *history.Recorder, log *slog.Logger) error {
	var errs []error
	type open struct {
		p  Planned
		id int
		at time.Time
	}
	var pending []open
	recoverOne := func(o open) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := o.p.Fault.Recover(rctx)
		text := ""
		if err != nil {
			text = err.Error()
			errs = append(errs, fmt.Errorf("recover %s on %s: %w", o.p.Fault.Name(), o.p.Fault.Target(), err))
		}
		log.Info("fault recovered", "fault", o.p.Fault.Name(), "target", o.p.Fault.Target())
		_ = rec.Recovered(o.id, time.Now(), text)
	}
	defer func() {
		for _, o := range pending {
			recoverOne(o)
		}
	}()
	for _, p := range planned {
		// Recover the faults whose time is up before injecting the next.
		for len(pending) > 0 && !pending[0].at.Add(pending[0].p.For).After(start.Add(p.At)) {
			if !sleepUntil(ctx, pending[0].at.Add(pending[0].p.For)) {
				return errors.Join(errs...)
			}
			recoverOne(pending[0])
			pending = pending[1:]
		}
		if !sleepUntil(ctx, start.Add(p.At)) {
			return errors.Join(errs...)
		}
		k := p.Fault.Kind()
		f := history.Fault{Name: p.Fault.Name(), Target: p.Fault.Target(), Injected: time.Now(), ProviderFault: k.Provider, DatabaseFault: k.Database, Provider: k.Affects}
		err := p.Fault.Inject(ctx)
		if err != nil {
			f.Err = err.Error()
			errs = append(errs, fmt.Errorf("inject %s on %s: %w", f.Name, f.Target, err))
		}
		id := rec.Fault(f)
		log.Info("fault injected", "fault", f.Name, "target", f.Target)
		pending = append(pending, open{p: p, id: id, at: f.Injected})
		sort.SliceStable(pending, func(i, j int) bool {
			return pending[i].at.Add(pending[i].p.For).Before(pending[j].at.Add(pending[j].p.For))
		})
	}
	for len(pending) > 0 {
		if !sleepUntil(ctx, pending[0].at.Add(pending[0].p.For)) {
			return errors.Join(errs...)
		}
		recoverOne(pending[0])
		pending = pending[1:]
	}
	return errors.Join(errs...)
}

// sleepUntil waits until t or until ctx ends; it reports whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
