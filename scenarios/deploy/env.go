package deploy

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// NameStopCondition is the invariant that reports a breach of the stop
// condition during a fault (check.NameStopCondition).
const NameStopCondition = check.NameStopCondition

// env is an operator's deployment as the engine's Environment: the
// balancer, providers and database pair of the deployment file. The engine
// runs one scenario per env; a fault scenario's env watches the stop
// condition.
type env struct {
	d    *Deployment
	opts Options
	// win is the stop condition's window (fault scenarios only).
	win *errorWindow
	// breach is the first breach of the stop condition, latched.
	breach   string
	breachAt time.Time
	sites    []siteInfo
}

// opener makes a fresh env per scenario of the deployment.
func opener(d *Deployment, opts Options) scenarios.Opener {
	return func(_ context.Context, sc scenarios.Scenario, _ int) (scenarios.Environment, error) {
		e := &env{d: d, opts: opts}
		if len(sc.Faults) > 0 {
			e.win = newErrorWindow(d.Stop)
		}
		return e, nil
	}
}

func (e *env) Meta() history.Meta {
	m := history.Meta{Mode: e.d.Mode}
	m.Domains = loadConfig(e.d, e.opts).Domains
	return m
}

func (e *env) Topology(users int) *reports.Topology { return topology(e.d, users) }

func (e *env) Load(users int) load.Config {
	o := e.opts
	o.Users = users
	return loadConfig(e.d, o)
}

func (e *env) Sink(rec *history.Recorder) load.Sink {
	s := providerSink{rec: rec, backend: e.d.ProviderHeader == BackendHeader}
	if e.win != nil {
		s.extra = e.win
	}
	return s
}

// CAPEM is the trust roots handed to load agents: the deployment's
// tls.ca_file and this machine's system roots (an agent in a container
// FROM scratch has none of its own).
func (e *env) CAPEM() []byte {
	return append(slices.Clone(e.d.TLS.CAPEM), systemRootsPEM()...)
}

// systemRootsPEM is this machine's bundle of trusted roots as Go finds it
// on Linux ($SSL_CERT_FILE, else the distributions' usual files), or nil.
func systemRootsPEM() []byte {
	files := []string{os.Getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/ca-bundle.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem"}
	for _, f := range files {
		if f == "" {
			continue
		}
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

func (e *env) Faults() faults.Env {
	return faults.Unsupported{Why: "a deployment's faults are its operator hooks (faults: in the deployment file); the harness cannot break it by itself"}
}

// Probe reads each site's certificate and HSTS header for the tls
// invariant's annotations. When the session must rotate, a dedicated probe
// user then replays its previous cookie once per name (read-only: only the
// probe is asked), which cookie-isolation judges: an application that
// rotates as the guide means it refuses the replaced cookie (and may revoke
// that user's session, the expected outcome).
func (e *env) Probe(ctx context.Context, lcfg load.Config, sink load.Sink) error {
	for _, dom := range e.d.Domains {
		e.sites = append(e.sites, probeSite(ctx, lcfg, dom, lcfg.SourceIPs[0]))
	}
	if lcfg.SessionFlow().Rotates {
		if err := load.ProbeReplay(ctx, lcfg, sink); err != nil {
			return fmt.Errorf("replay probe: %w", err)
		}
	}
	return ctx.Err()
}

// Watch samples nothing while the load runs: the deployment's lag is
// measured with heartbeats at the end (Final), where it disturbs nothing.
func (e *env) Watch(ctx context.Context) []history.LagSample {
	<-ctx.Done()
	return nil
}

func (e *env) Final(ctx context.Context, _ scenarios.FinalSpec) (history.Final, error) {
	var final history.Final
	if e.d.Database != nil {
		final.DB, final.Lag = readDatabase(ctx, e.d.Database, e.opts.RunID, e.opts.Logger)
	}
	if err := ctx.Err(); err != nil {
		return final, err
	}
	return final, nil
}

func (e *env) Close(context.Context) error { return nil }

// Stop reports a breach of the deployment's stop condition; the first one
// is latched for the stop-condition verdict.
func (e *env) Stop() bool {
	if e.win == nil {
		return false
	}
	if e.breach != "" {
		return true
	}
	why, ok := e.win.breach()
	if ok {
		e.breach, e.breachAt = why, time.Now()
		e.opts.Logger.Warn("stop condition breached: recovering at once", "why", why)
	}
	return ok
}

// Annotate adds what the history does not hold (certificate expiry, HSTS,
// the spread over providers, the stop condition) and removes secrets.
func (e *env) Annotate(sc *reports.Scenario, h *history.History) {
	if e.win != nil && sc.Error == "" && h != nil {
		sc.Invariants = append(sc.Invariants, e.stopVerdict(h))
	}
	if len(e.sites) > 0 {
		annotateTLS(sc, e.sites, e.d.TLS.MinValidity, time.Now())
	}
	if h != nil {
		annotateSpread(sc, h)
	}
	redactScenario(e.d, sc)
	sc.Error = redactText(e.d, sc.Error)
	for i, why := range sc.NotJudged {
		sc.NotJudged[i] = redactText(e.d, why+requireHint(why))
	}
}

// requireHints say, per required invariant, which key of the deployment
// file lets it be judged.
var requireHints = map[string]string{
	check.NameStickiness:             "let responses name their node (backend: a header the balancer adds, a cookie or a body pattern; check --try-session shows what the answers carry)",
	check.NameSessionContinuity:      "make the session flow work (session: login, probe, cookie and accounts; check --try-session shows each step)",
	check.NameRedirect:               "give each domain its plain-http URL (domains[].http)",
	check.NameTLS:                    "give each domain its https URL (domains[].https)",
	check.NameReplicationHealth:      "give database: a and b DSNs of an account that may read the replica status",
	check.NameReplicationConvergence: "give database: a and b, and database.tables to compare",
	check.NameFailover:               "name the provider the hook takes out (faults[].provider) and keep the load running through it",
}

// requireHint is the fix for a skipped required invariant named in why.
func requireHint(why string) string {
	for name, hint := range requireHints {
		if strings.HasPrefix(why, "invariant "+name+",") {
			return " — to judge it, " + hint + ", or drop it from require:"
		}
	}
	return ""
}

// stopVerdict is the stop-condition invariant of a fault scenario.
func (e *env) stopVerdict(h *history.History) reports.Invariant {
	v := reports.Invariant{Name: NameStopCondition, Verdict: reports.Pass,
		Summary: fmt.Sprintf("the error rate stayed within %.0f%% over every %s window", 100*e.d.Stop.MaxErrorRate, e.d.Stop.Window)}
	if e.breach == "" {
		return v
	}
	v.Verdict = reports.Fail
	v.Summary = "the stop condition was breached: the fault was aborted and recovered at once"
	line := e.breach
	if len(h.Faults) > 0 {
		line += fmt.Sprintf("; breached %s after injection", e.breachAt.Sub(h.Faults[0].Injected).Round(100*time.Millisecond))
	}
	v.Evidence = []string{line}
	return v
}
