package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// NameStopCondition is the invariant that reports a breach of the stop
// condition during a fault.
const NameStopCondition = check.NameStopCondition

// monitorEvery is how often the stop condition is evaluated.
const monitorEvery = 100 * time.Millisecond

// checkFault runs one operator hook under load: the load runs for the
// scenario's duration plus the hold; the fault is injected after a third of
// the duration and recovered after its hold, or at once when the stop
// condition is breached. The recover hook always runs, also when the
// inject hook failed and when ctx is cancelled (Ctrl-C).
func checkFault(ctx context.Context, d *Deployment, opts Options, h FaultHook, sc *reports.Scenario) (err error) {
	name := d.Name + "/" + h.Name
	rec, closeRec, err := newRecorder(d, opts, name, sc.Started)
	if err != nil {
		return err
	}
	defer closeRec()
	win := newErrorWindow(d.Stop)
	sink := providerSink{rec: rec, backend: d.ProviderHeader == BackendHeader, extra: win}
	lcfg := loadConfig(d, opts)
	lcfg.Duration = opts.Duration + h.Hold

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan error, 1)
	go func() { loadDone <- load.Run(loadCtx, lcfg, sink) }()

	breach, faultErr := runFault(ctx, d, opts, h, rec, win, time.Now().Add(opts.Duration/3))
	var loadErr error
	select {
	case loadErr = <-loadDone:
	case <-ctx.Done():
		stopLoad()
		loadErr = <-loadDone
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if loadErr != nil {
		return fmt.Errorf("load: %w", loadErr)
	}
	hist := finishHistory(rec, history.Final{})
	invs := append(check.HTTP(*opts.Bounds), Reachability{}, NoLostWrites{Writes: d.Session.Writes})
	sc.Invariants = check.Run(hist, invs)
	stop := reports.Invariant{Name: NameStopCondition, Verdict: reports.Pass,
		Summary: fmt.Sprintf("the error rate stayed within %.0f%% over every %s window", 100*d.Stop.MaxErrorRate, d.Stop.Window)}
	if breach != "" {
		stop.Verdict = reports.Fail
		stop.Summary = "the stop condition was breached: the fault was aborted and recovered at once"
		stop.Evidence = []string{breach}
	}
	sc.Invariants = append(sc.Invariants, stop)
	annotateSpread(sc, hist)
	redactScenario(d, sc)
	sc.Faults = check.FaultWindows(hist)
	sc.Timeline = check.Timeline(hist, bucket(lcfg.Duration))
	if faultErr != nil {
		return faultErr
	}
	return nil
}

// runFault injects at the given time, holds, watches the stop condition
// and recovers. It returns the breach sentence, if any, and hook errors.
func runFault(ctx context.Context, d *Deployment, opts Options, h FaultHook, rec *history.Recorder, win *errorWindow,
	at time.Time) (breach string, err error) {
	log := opts.Logger.With("fault", h.Name)
	select {
	case <-time.After(time.Until(at)):
	case <-ctx.Done():
		return "", nil // never injected: nothing to recover
	}
	f := history.Fault{Name: h.Name, Target: h.Provider, Provider: h.Provider, ProviderFault: true, Injected: time.Now()}
	if f.Target == "" {
		f.Target = "operator hook"
	}
	log.Info("injecting fault", "command", redactText(d, h.Inject))
	out, injErr := runHook(ctx, h.Name, "inject", h.Inject, h.Timeout)
	if injErr != nil {
		f.Err = redactText(d, injErr.Error())
	}
	f.Detail = redactText(d, clip(out))
	id := rec.Fault(f)
	// Recovery runs whatever happened above, also on Ctrl-C: the operator's
	// system must not be left broken.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.Timeout)
		defer cancel()
		log.Info("recovering fault", "command", redactText(d, h.Recover))
		_, recErr := runHook(rctx, h.Name, "recover", h.Recover, h.Timeout)
		text := ""
		if recErr != nil {
			text = redactText(d, recErr.Error())
			err = fmt.Errorf("%s (the system may still be broken: run the recover command by hand)", text)
		}
		_ = rec.Recovered(id, time.Now(), text)
	}()
	if injErr != nil {
		return "", fmt.Errorf("%s", redactText(d, injErr.Error()))
	}
	hold := time.NewTimer(h.Hold)
	defer hold.Stop()
	tick := time.NewTicker(monitorEvery)
	defer tick.Stop()
	for {
		select {
		case <-hold.C:
			return "", nil
		case <-ctx.Done():
			return "", nil
		case <-tick.C:
			if why, ok := win.breach(); ok {
				log.Warn("stop condition breached: recovering at once", "why", why)
				return fmt.Sprintf("%s; breached %s after injection", why, time.Since(f.Injected).Round(100*time.Millisecond)), nil
			}
		}
	}
}
