package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/catalogue"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cmdRun runs scenarios in the built-in lab and writes every report.
func cmdRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "run [--scenario NAME ...] [--fault NAME[:knob=v,...] ...] [--nemesis KEY=V,...] [--scenario-file F] [--seed N] [--out DIR] [--users N] [--rate R] [--duration D] [--parallel N] [--parallel-db N] [--agents N [--engine local|docker|swarm|remote|kubernetes] [--swarm-init]] [--nodes inprocess|containers] [--dry-run]")
	var names stringList
	fs.Var(&names, "scenario", "scenario to run (repeatable, or comma separated); default: the whole catalogue (see 'regify-verify list')")
	var faultSpecs stringList
	fs.Var(&faultSpecs, "fault", "add a scenario \"custom\" with this fault, NAME[:knob=value,...] with knobs at, for, jitter and the fault's own (repeatable; see 'regify-verify list'); without --scenario only it runs")
	nemesis := fs.String("nemesis", "", "shape the nemesis scenario: faults=a+b+c (names from 'regify-verify list'), intensity=N (faults a minute, default 6), max_hold=D (default 8s), lab=SCENARIO (run it on that scenario's lab, e.g. a negative control's broken setup); without --scenario only it runs")
	scenarioFile := fs.String("scenario-file", "", "also run the scenario kept in this file (written by 'regify-verify shrink'); its seed is used unless --seed is given")
	dryRun := fs.Bool("dry-run", false, "print each scenario's lab, load and fault schedule for the seed, and start nothing")
	seed := fs.Int64("seed", 0, "seed of the fault schedule and the users' choices; 0 picks one (printed in every report)")
	out := fs.String("out", "out", "directory for index.html, report.json, junit.xml, summary.md and the histories")
	users := fs.Int("users", 0, "simulated users, each from its own source IP (1-250); 0 keeps each scenario's own")
	rate := fs.Int("rate", 0, "requests per second over all users; 0 keeps each scenario's own")
	duration := fs.Duration("duration", 0, "load duration of each scenario; 0 keeps each scenario's own")
	parallel := fs.Int("parallel", scenarios.DefaultParallel(), "scenarios run at once, each lab on its own addresses (127.LANE.x.y); 1 runs them one after another")
	dbParallel := fs.Int("parallel-db", scenarios.DefaultDatabaseParallel, "of those, scenarios with the MariaDB pair run at once (they are started first)")
	var ag agentOptions
	ag.add(fs, "scenario")
	nodes := fs.String("nodes", harness.NodesInProcess, "where the lab's balancer, providers and clearing service run: inprocess (the fastest) or containers (each a container of the regify-verify image on a lab network, beside the agents, which then need --engine docker or swarm: the balancer sees every agent's own address, a provider crash is a SIGKILL and a pause a frozen container)")
	backend := fs.String("db-backend", "", "how the MariaDB pair runs: docker, process (two local mariadbd) or empty: docker when an engine answers, else process")
	image := fs.String("mariadb-image", "", "MariaDB/MySQL image to use instead of building one (e.g. mariadb:11.4)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: scenarios are named with --scenario", fs.Arg(0))}
	}
	specs, err := catalogue.Find(names...)
	if err != nil {
		return usageError{err}
	}
	if len(faultSpecs) > 0 {
		custom, err := scenarios.AdHoc(faultSpecs)
		if err != nil {
			return usageError{err}
		}
		if len(names) == 0 {
			specs = nil
		}
		specs = append(specs, custom)
	}
	if *nemesis != "" {
		o, labName, err := scenarios.ParseNemesis(*nemesis)
		if err != nil {
			return usageError{err}
		}
		o.Duration = *duration
		if labName != "" {
			lab, err := borrowLab(labName)
			if err != nil {
				return usageError{fmt.Errorf("--nemesis lab=%s: %w", labName, err)}
			}
			o.Lab, o.LabFrom, o.NeedsDatabase = lab.Lab, labName, lab.NeedsDatabase
		}
		nem, err := scenarios.Nemesis(o)
		if err != nil {
			return usageError{err}
		}
		specs = replaceNemesis(specs, nem, len(names) == 0 && len(faultSpecs) == 0)
	}
	if *scenarioFile != "" {
		sf, err := scenarios.ReadScenarioFile(*scenarioFile)
		if err != nil {
			return usageError{err}
		}
		var lab *scenarios.Scenario
		if sf.Lab != "" {
			if lab, err = borrowLab(sf.Lab); err != nil {
				return usageError{fmt.Errorf("scenario file %s: lab %s: %w", *scenarioFile, sf.Lab, err)}
			}
		}
		spec, err := sf.Spec(lab)
		if err != nil {
			return usageError{err}
		}
		if len(names) == 0 && len(faultSpecs) == 0 && *nemesis == "" {
			specs = nil
		}
		specs = append(specs, spec)
		if *seed == 0 {
			*seed = sf.Seed
		}
	}
	if *users < 0 || *users > 250 {
		return usageError{fmt.Errorf("--users %d: choose 1 to 250 (each user needs its own 127.0.10.x address)", *users)}
	}
	if *parallel < 1 || *parallel > harness.MaxLane+1 {
		return usageError{fmt.Errorf("--parallel %d: choose 1 to %d (default %d on this machine)", *parallel, harness.MaxLane+1, scenarios.DefaultParallel())}
	}
	if !flagSet(fs, "parallel-db") {
		*dbParallel = min(*dbParallel, *parallel)
	}
	if *dbParallel < 1 || *dbParallel > *parallel {
		return usageError{fmt.Errorf("--parallel-db %d: choose 1 to --parallel (%d)", *dbParallel, *parallel)}
	}
	if err := ag.oneScenario(len(specs), "name one with --scenario"); err != nil {
		return usageError{err}
	}
	if err := checkNodes(*nodes, ag.n, ag.engine); err != nil {
		return usageError{err}
	}
	if *rate < 0 || *duration < 0 {
		return usageError{errors.New("--rate and --duration must not be negative")}
	}
	if *backend != "" && *backend != harness.BackendDocker && *backend != harness.BackendProcess {
		return usageError{fmt.Errorf("--db-backend %q: want docker or process", *backend)}
	}
	if *seed == 0 {
		*seed = scenarios.NewSeed()
	}
	if *dryRun {
		return printSchedules(e, specs, *seed, *duration)
	}
	base := harness.Options{DB: harness.PairOptions{Backend: *backend, Image: *image}}
	runID := scenarios.NewRunID()
	loadDriver, closeDriver, err := agentDriver(ctx, ag.with(*nodes, runID), &base, e)
	if err != nil {
		return usageError{err}
	}
	defer closeDriver()
	if err := os.MkdirAll(filepath.Join(*out, "history"), 0o755); err != nil {
		return usageError{fmt.Errorf("create output directory %s: %w", *out, err)}
	}
	harness.PrepareEnv()
	if n, err := harness.Sweep(ctx, false, e.log); err == nil && n > 0 {
		e.log.Info("swept leftovers of earlier runs", "resources", n)
	}

	counters := new(load.Counters)
	progress := reports.NewProgress(e.stderr, isTerminal(e.stderr))
	stopPoll := pollCounters(counters, progress)
	suite := scenarios.Suite{
		Specs:    specs,
		Parallel: *parallel, DatabaseParallel: *dbParallel,
		Command: commandLine(e.argv, *seed, names),
		Config: scenarios.Config{
			Seed: *seed, RunID: runID, Users: *users, Rate: *rate, Duration: *duration,
			HistoryDir: filepath.Join(*out, "history"), Counters: counters, Logger: labLogger(e), Load: loadDriver,
			Base: base,
		},
		OnScenario: func(name string, done *reports.Scenario) {
			if done == nil {
				progress.Scenario(name)
				return
			}
			progress.ScenarioDone(name, done.Verdict)
		},
	}
	fmt.Fprintf(e.stderr, "regify-verify run %s: %d scenarios, seed %d, %d at once\n", runID, len(specs), *seed, min(*parallel, len(specs)))
	rep := suite.Run(ctx)
	stopPoll()
	progress.Done()
	return finishReport(e, rep, *out)
}

// finishReport writes every output of a run and turns its verdict into the
// exit code.
func finishReport(e *env, rep *reports.Report, out string) error {
	if err := reports.WriteAll(out, rep, reports.Options{StepSummary: os.Getenv("GITHUB_STEP_SUMMARY")}); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	if err := reports.WriteTable(e.stdout, rep); err != nil {
		return fmt.Errorf("print verdicts: %w", err)
	}
	abs, _ := filepath.Abs(filepath.Join(out, "index.html"))
	fmt.Fprintf(e.stdout, "\nreport: %s\n", abs)
	switch {
	case rep.Incomplete:
		return fmt.Errorf("run interrupted: the partial report is marked incomplete")
	case rep.Verdict == reports.Fail:
		return failedError{"an invariant failed; see the report"}
	case rep.Verdict == reports.Error:
		return errors.New("a scenario could not be judged; see the report")
	case rep.Verdict == reports.Incomplete:
		return errors.New("incomplete: " + notJudged(rep))
	case rep.Verdict == reports.Skip:
		return errors.New("every invariant was skipped: nothing could be judged; see the report for what was missing")
	}
	return nil
}

// labLogger is the log of the labs a run brings up: only errors unless
// REGIFY_VERIFY_LOG asks for more. Faults make the lab warn a lot on
// purpose (backends down, stores unreachable); the report tells that story.
func labLogger(e *env) *slog.Logger {
	if os.Getenv("REGIFY_VERIFY_LOG") != "" {
		return e.log
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// pollCounters feeds the load's counters into the progress display until
// the returned stop function is called.
func pollCounters(c *load.Counters, p *reports.Progress) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		var last load.Stats
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			s := c.Snapshot()
			p.Add(int(s.Requests-last.Requests), int(s.Errors-last.Errors))
			last = s
		}
	}()
	return func() { close(done); <-finished }
}

// commandLine is the exact command that reruns this run, seed included:
// the arguments as given, with the seed fixed, each quoted for a POSIX
// shell where it needs it.
func commandLine(argv []string, seed int64, _ []string) string {
	parts := []string{"regify-verify", "run", fmt.Sprintf("--seed=%d", seed)}
	args := argv[2:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--seed" || a == "-seed" {
			i++ // its value follows
			continue
		}
		if strings.HasPrefix(a, "--seed=") || strings.HasPrefix(a, "-seed=") {
			continue
		}
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell unless it is made of safe bytes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,:/@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// notJudged names the first reason a scenario of rep was not judged, and
// how many more there are.
func notJudged(rep *reports.Report) string {
	var first string
	n := 0
	for _, s := range rep.Scenarios {
		for _, why := range s.NotJudged {
			if n == 0 {
				first = s.Name + ": " + why
			}
			n++
		}
	}
	switch n {
	case 0:
		return "a scenario was not judged; see the report"
	case 1:
		return first
	}
	return fmt.Sprintf("%s (and %d more; see the report)", first, n-1)
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
