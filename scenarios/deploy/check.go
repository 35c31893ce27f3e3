package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Options tune one Check. The zero value runs the deployment file's load
// profile without faults.
type Options struct {
	// Users, Rate and Duration override the file's load section when set.
	Users    int
	Rate     int
	Duration time.Duration
	// Seed makes the users' choices reproducible; 0 picks one.
	Seed int64
	// RunID names the run; "" makes one from the clock.
	RunID string
	// AllowFaults runs the file's fault hooks; without it they are listed
	// in the plan and skipped.
	AllowFaults bool
	// HistoryDir, when set, receives each scenario's history as JSON lines.
	HistoryDir string
	// Bounds judge the invariants; nil means check.DefaultBounds with the
	// file's database.max_lag.
	Bounds *check.Bounds
	// Dial replaces the dialer that connects names to domains[].address
	// (tests).
	Dial load.DialFunc
	// Command is the command line printed in the report's repro block.
	Command  string
	Counters *load.Counters
	Logger   *slog.Logger
	// OnScenario is told when a scenario starts (done nil) and ends.
	OnScenario func(name string, done *reports.Scenario)
}

// Check judges the deployment: a non-destructive scenario first (TLS and
// redirect probes, load from many source IPs, database checks), then, with
// AllowFaults, one scenario per fault hook. Problems of the deployment are
// failed invariants with a plain reason; the error is for bad options or
// an interrupted run (the report is then returned too, marked incomplete).
func Check(ctx context.Context, d *Deployment, opts Options) (*reports.Report, error) {
	if d == nil || len(d.Domains) == 0 || len(d.Clients.SourceIPs) == 0 {
		return nil, errors.New("check: no valid deployment (use Load or Parse)")
	}
	opts, err := opts.complete(d)
	if err != nil {
		return nil, err
	}
	rep := &reports.Report{
		Schema: reports.Schema, RunID: opts.RunID, Seed: opts.Seed, Mode: "target", Started: time.Now(), InvariantOrder: check.Names(),
		Repro: reports.Repro{Command: opts.Command, Version: version(), GoVersion: goVersion(), ConfigHash: configHash(d)},
	}
	defer func() { rep.Ended = time.Now(); rep.Finish() }()

	run := func(name, desc string, body func(ctx context.Context, sc *reports.Scenario) error) error {
		if opts.OnScenario != nil {
			opts.OnScenario(name, nil)
		}
		sc := reports.Scenario{Name: name, Description: desc, Started: time.Now(), Topology: topology(d, opts.Users)}
		err := body(ctx, &sc)
		sc.Ended = time.Now()
		sc.Verdict = provisional(sc.Invariants)
		if err != nil {
			sc.Error = redactText(d, err.Error())
			sc.Verdict = reports.Error
		}
		rep.Scenarios = append(rep.Scenarios, sc)
		if opts.OnScenario != nil {
			opts.OnScenario(name, &rep.Scenarios[len(rep.Scenarios)-1])
		}
		return ctx.Err()
	}
	if err := run(d.Name, "non-destructive checks of "+d.Name+": TLS and redirect per name, load from "+fmt.Sprint(opts.Users)+" source IPs, database",
		func(ctx context.Context, sc *reports.Scenario) error { return checkBaseline(ctx, d, opts, sc) }); err != nil {
		rep.Incomplete = true
		return rep, fmt.Errorf("check %s interrupted: %w", d.Name, err)
	}
	if !opts.AllowFaults {
		if len(d.Faults) > 0 {
			opts.Logger.Info("fault hooks skipped: pass --allow-faults to run them", "hooks", len(d.Faults))
		}
		return rep, nil
	}
	for _, h := range d.Faults {
		if err := run(d.Name+"/"+h.Name, "fault hook "+h.Name+" under load: inject, hold "+h.Hold.String()+", recover",
			func(ctx context.Context, sc *reports.Scenario) error { return checkFault(ctx, d, opts, h, sc) }); err != nil {
			rep.Incomplete = true
			return rep, fmt.Errorf("check %s interrupted during fault %s: %w", d.Name, h.Name, err)
		}
	}
	return rep, nil
}

// complete fills in defaults and the file's load profile.
func (o Options) complete(d *Deployment) (Options, error) {
	if o.Users == 0 {
		o.Users = d.Load.Users
	}
	if o.Rate == 0 {
		o.Rate = d.Load.Rate
	}
	if o.Duration == 0 {
		o.Duration = d.Load.Duration
	}
	switch {
	case o.Users < 1 || o.Users > len(d.Clients.SourceIPs):
		return o, fmt.Errorf("%d users: choose 1 to %d, one per address of clients.source_ips", o.Users, len(d.Clients.SourceIPs))
	case o.Rate < 0:
		return o, fmt.Errorf("rate %d must not be negative", o.Rate)
	case o.Duration < 0:
		return o, fmt.Errorf("duration %s must not be negative", o.Duration)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if n := len(d.Domains); o.Users >= n && !oddPerDomain(o.Users, n) {
		o.Logger.Warn("a domain gets an even number of users: a round-robin balancer over two providers may look sticky there; prefer an odd number per domain",
			"users", o.Users, "domains", n)
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano() % 1_000_000
	}
	if o.RunID == "" {
		o.RunID = fmt.Sprintf("rv%d", time.Now().Unix()%1_000_000)
	}
	if o.Bounds == nil {
		b := check.DefaultBounds()
		if d.Database != nil {
			b.MaxLag = d.Database.MaxLag
		}
		o.Bounds = &b
	}
	if o.Dial == nil {
		o.Dial = dialer(d, d.Load.Timeout)
	}
	return o, nil
}

// loadConfig is the load package's view of the deployment.
func loadConfig(d *Deployment, opts Options) load.Config {
	doms := make([]history.Domain, 0, len(d.Domains))
	for _, dom := range d.Domains {
		hd := history.Domain{Name: dom.Name, HTTPS: dom.HTTPS, HTTP: dom.HTTP}
		if dom.Address.IsValid() {
			hd.PublicIP = dom.Address.String()
		}
		doms = append(doms, hd)
	}
	return load.Config{
		Users: opts.Users, SourceIPs: d.Clients.SourceIPs[:opts.Users], Domains: doms,
		Rate: opts.Rate, Duration: opts.Duration, Password: d.Session.Password, CA: d.TLS.Roots,
		Dial: opts.Dial, Timeout: d.Load.Timeout, Seed: opts.Seed, Counters: opts.Counters, Logger: opts.Logger,
		Paths: load.Paths{Login: d.Session.LoginPath, Inbox: d.Session.ProbePath}, Mix: loadMix(d),
	}
}

// loadMix is the load's request mix: read-only unless the deployment
// allows writes into the operator's system (session.writes: true).
func loadMix(d *Deployment) load.Mix {
	if d.Session.Writes {
		return load.DefaultMix
	}
	return load.ReadOnlyMix
}

// newRecorder starts a history, streamed to HistoryDir when set.
func newRecorder(d *Deployment, opts Options, scenario string, started time.Time) (*history.Recorder, func(), error) {
	meta := history.Meta{RunID: opts.RunID, Scenario: scenario, Seed: opts.Seed, Started: started, Mode: d.Mode}
	for _, dom := range loadConfig(d, opts).Domains {
		meta.Domains = append(meta.Domains, dom)
	}
	rec := history.NewRecorder(meta)
	if opts.HistoryDir == "" {
		return rec, func() {}, nil
	}
	name := strings.NewReplacer("/", "-", " ", "-").Replace(scenario) + ".jsonl"
	f, err := os.Create(filepath.Join(opts.HistoryDir, name))
	if err != nil {
		return nil, nil, fmt.Errorf("create history file: %w", err)
	}
	if err := rec.StreamTo(f); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stream history: %w", err)
	}
	return rec, func() { _ = rec.Flush(); _ = f.Close() }, nil
}

// providerSink records requests; with provider_header X-Regify-Backend the
// balancer's backend name stands for the provider.
type providerSink struct {
	rec     *history.Recorder
	backend bool
	extra   load.Sink // also told, e.g. the stop condition's window
}

func (s providerSink) Add(r history.Request) int64 {
	if s.backend && r.Provider == "" {
		r.Provider = r.Backend
	}
	if s.extra != nil {
		s.extra.Add(r)
	}
	return s.rec.Add(r)
}

// checkBaseline runs the non-destructive scenario.
func checkBaseline(ctx context.Context, d *Deployment, opts Options, sc *reports.Scenario) error {
	rec, closeRec, err := newRecorder(d, opts, d.Name, sc.Started)
	if err != nil {
		return err
	}
	defer closeRec()
	sink := providerSink{rec: rec, backend: d.ProviderHeader == BackendHeader}
	lcfg := loadConfig(d, opts)
	if err := load.ProbeTLS(ctx, lcfg, sink); err != nil {
		return fmt.Errorf("TLS probe: %w", err)
	}
	if rcfg := withRedirects(lcfg); len(rcfg.Domains) > 0 {
		if err := load.ProbeRedirect(ctx, rcfg, sink); err != nil {
			return fmt.Errorf("redirect probe: %w", err)
		}
	}
	var sites []siteInfo
	for _, dom := range d.Domains {
		sites = append(sites, probeSite(ctx, lcfg, dom, lcfg.SourceIPs[0]))
	}
	if err := load.Run(ctx, lcfg, sink); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	var final history.Final
	if d.Database != nil {
		final.DB, final.Lag = readDatabase(ctx, d.Database, opts.RunID, opts.Logger)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	h := finishHistory(rec, final)
	sc.Invariants = check.Run(h, baselineInvariants(d, *opts.Bounds))
	annotateTLS(sc, sites, d.TLS.MinValidity, time.Now())
	annotateSpread(sc, h)
	redactScenario(d, sc)
	sc.Timeline = check.Timeline(h, bucket(opts.Duration))
	return nil
}

// finishHistory records the end and names the providers that answered.
func finishHistory(rec *history.Recorder, final history.Final) *history.History {
	h := rec.History()
	meta := h.Meta
	for _, r := range h.Requests {
		if r.Provider != "" && !slices.Contains(meta.Providers, r.Provider) {
			meta.Providers = append(meta.Providers, r.Provider)
		}
		if r.Seen != nil {
			meta.ProviderShowsSeen = true
		}
	}
	slices.Sort(meta.Providers)
	rec.SetMeta(meta)
	_ = rec.Finish(time.Now(), final)
	return rec.History()
}

// withRedirects keeps the domains that have a plain-http URL to probe.
func withRedirects(c load.Config) load.Config {
	c.Domains = slices.DeleteFunc(slices.Clone(c.Domains), func(d history.Domain) bool { return d.HTTP == "" })
	return c
}

func bucket(d time.Duration) time.Duration {
	b := (d / 60).Round(100 * time.Millisecond)
	return max(b, 100*time.Millisecond)
}

// redactScenario makes sure no secret of d reached the report's text.
func redactScenario(d *Deployment, sc *reports.Scenario) {
	for i := range sc.Invariants {
		inv := &sc.Invariants[i]
		inv.Summary = redactText(d, inv.Summary)
		for j := range inv.Evidence {
			inv.Evidence[j] = redactText(d, inv.Evidence[j])
		}
	}
}

func topology(d *Deployment, users int) *reports.Topology {
	t := &reports.Topology{Mode: d.Mode, Balancer: "operator's balancer (target mode)", Clients: clientRange(d, users)}
	for _, dom := range d.Domains {
		ip := ""
		if dom.Address.IsValid() {
			ip = dom.Address.String()
		}
		t.Domains = append(t.Domains, reports.TopoDomain{Name: dom.Name, PublicIP: ip, HTTPS: dom.HTTPS, HTTP: dom.HTTP})
	}
	if db := d.Database; db != nil {
		t.Databases = []reports.TopoNode{{Name: "a", Address: RedactDSN(db.A)}, {Name: "b", Address: RedactDSN(db.B)}}
	}
	return t
}

func clientRange(d *Deployment, users int) string {
	ips := d.Clients.SourceIPs[:users]
	if len(ips) == 1 {
		return ips[0].String()
	}
	return ips[0].String() + "-" + ips[len(ips)-1].String()
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return ""
}

// provisional is a scenario's verdict for the progress line; Report.Finish
// computes the final one.
func provisional(invs []reports.Invariant) reports.Verdict {
	v := reports.Skip
	for _, inv := range invs {
		switch inv.Verdict {
		case reports.Fail:
			return reports.Fail
		case reports.Pass:
			v = reports.Pass
		}
	}
	return v
}
