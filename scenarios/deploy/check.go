package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
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
	Command string
	// Load, when set, drives each scenario's load elsewhere (load agents,
	// scenarios/agents) instead of in this process.
	Load     scenarios.LoadDriver
	Counters *load.Counters
	Logger   *slog.Logger
	// OnScenario is told when a scenario starts (done nil) and ends.
	OnScenario func(name string, done *reports.Scenario)
}

// Check judges the deployment: a non-destructive scenario first (TLS and
// redirect probes, load from many source IPs, database checks), then, with
// AllowFaults, one scenario per fault hook. Each runs through the engine
// (scenarios.Execute) like a lab scenario. Problems of the deployment are
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
	if !opts.AllowFaults && len(d.Faults) > 0 {
		opts.Logger.Info("fault hooks skipped: pass --allow-faults to run them", "hooks", len(d.Faults))
	}
	suite := scenarios.Suite{
		Specs: Scenarios(d, opts),
		Config: scenarios.Config{
			Seed: opts.Seed, RunID: opts.RunID, Open: opener(d, opts), Users: opts.Users, Rate: opts.Rate,
			HistoryDir: opts.HistoryDir, Counters: opts.Counters, Logger: opts.Logger, Load: opts.Load,
		},
		Mode: "target", Command: opts.Command, ConfigHash: configHash(d), OnScenario: opts.OnScenario,
	}
	rep := suite.Run(ctx)
	if rep.Incomplete {
		return rep, fmt.Errorf("check %s interrupted: %w", d.Name, context.Cause(ctx))
	}
	return rep, nil
}

// Scenarios are the scenarios Check runs for d: the non-destructive one,
// then with AllowFaults one per fault hook, which holds the hook's fault
// for its hold time a third into the load.
func Scenarios(d *Deployment, opts Options) []scenarios.Spec {
	specs := []scenarios.Spec{func() scenarios.Scenario {
		return scenarios.Scenario{
			Name:        d.Name,
			Description: "non-destructive checks of " + d.Name + ": TLS and redirect per name, load from " + fmt.Sprint(opts.Users) + " source IPs, database",
			Duration:    opts.Duration,
			Checks:      baselineInvariants(d, *opts.Bounds),
			Requires:    d.Require,
		}
	}}
	if !opts.AllowFaults {
		return specs
	}
	for _, h := range d.Faults {
		specs = append(specs, func() scenarios.Scenario {
			return scenarios.Scenario{
				Name:        d.Name + "/" + h.Name,
				Description: "fault hook " + h.Name + " under load: inject, hold " + h.Hold.String() + ", recover",
				Duration:    opts.Duration + h.Hold,
				Faults: []scenarios.Step{{At: opts.Duration / 3, For: h.Hold, Fault: &faults.Hook{
					Label: h.Name, InjectCmd: h.Inject, RecoverCmd: h.Recover, Provider: h.Provider, Timeout: h.Timeout,
					Redact: func(s string) string { return redactText(d, s) },
				}}},
				Checks:   baselineInvariants(d, *opts.Bounds),
				Requires: appendNew(d.Require, check.NameFailover),
			}
		})
	}
	return specs
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
		o.Seed = scenarios.NewSeed()
	}
	if o.RunID == "" {
		o.RunID = scenarios.NewRunID()
	}
	if o.Bounds == nil {
		b := check.DefaultBounds()
		if d.Database != nil {
			b.MaxLag = d.Database.MaxLag
		}
		if d.Bounds.MaxStall > 0 {
			b.MaxStall = d.Bounds.MaxStall
		}
		b.Failback = d.Bounds.Failback
		o.Bounds = &b
	}
	// Without a dialer of the caller's the load's own connects each name
	// to its domains[].address (history.Domain.PublicIP), as agents do.
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
		Flow: sessionFlow(d),
	}
}

// sessionFlow is the deployment's session flow; a Deployment built in
// code without one (no login steps) follows the provider contract.
func sessionFlow(d *Deployment) *load.Flow {
	if len(d.Session.Flow.Login) == 0 {
		return nil
	}
	f := d.Session.Flow
	return &f
}

// loadMix is the load's request mix: read-only unless the deployment
// allows writes into the operator's system (session.writes: true).
func loadMix(d *Deployment) load.Mix {
	if d.Session.Writes {
		return load.DefaultMix
	}
	return load.ReadOnlyMix
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

// appendNew is list with name added when it is not in it yet (a copy).
func appendNew(list []string, name string) []string {
	out := slices.Clone(list)
	if !slices.Contains(out, name) {
		out = append(out, name)
	}
	return out
}
