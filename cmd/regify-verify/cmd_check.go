package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/deploy"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// cmdCheck judges a real deployment described by a deployment file.
func cmdCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "check", "check --target deployment.yaml [--out DIR] [--allow-faults] [--dry-run] [--users N] [--duration D] [--rate R] [--seed N] [--agents N [--engine local|swarm|remote|kubernetes] ...]\n       regify-verify check --try-session deployment.yaml")
	file := fs.String("target", "", "the deployment file (see examples/deployment.yaml)")
	try := fs.String("try-session", "", "run the `file`'s session flow once for one user, print every step, and exit: 0 when it works end to end, 1 when not")
	out := fs.String("out", "out", "directory for index.html, report.json, junit.xml, summary.md and the histories")
	allowFaults := fs.Bool("allow-faults", false, "run the file's fault hooks (operator commands that break something); off by default")
	dryRun := fs.Bool("dry-run", false, "print what the check would do and touch nothing")
	users := fs.Int("users", 0, "simulated users, one per source IP; 0 keeps the file's load.users")
	rate := fs.Int("rate", 0, "requests per second over all users; 0 keeps the file's load.rate")
	duration := fs.Duration("duration", 0, "load duration; 0 keeps the file's load.duration")
	seed := fs.Int64("seed", 0, "seed of the users' choices; 0 picks one (printed in every report)")
	var ag agentOptions
	ag.add(fs, "scenario (the check, and each fault hook with --allow-faults)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: the deployment file is given with --target", fs.Arg(0))}
	}
	if *try != "" {
		return trySession(ctx, e, *try, *file)
	}
	if *file == "" {
		return usageError{errors.New("--target is required: the deployment file to check (see examples/deployment.yaml)")}
	}
	d, err := deploy.Load(*file)
	if err != nil {
		return usageError{err}
	}
	if *users < 0 || *users > len(d.Clients.SourceIPs) {
		return usageError{fmt.Errorf("--users %d: choose 1 to %d, one per address of clients.source_ips in %s", *users, len(d.Clients.SourceIPs), *file)}
	}
	if *rate < 0 || *duration < 0 {
		return usageError{errors.New("--rate and --duration must not be negative")}
	}
	if *users > 0 {
		d.Load.Users = *users
	}
	if *rate > 0 {
		d.Load.Rate = *rate
	}
	if *duration > 0 {
		d.Load.Duration = *duration
	}
	if *dryRun {
		return printPlan(e, d, *allowFaults)
	}
	scenarioCount := 1
	if *allowFaults {
		scenarioCount += len(d.Faults)
	}
	if err := ag.oneScenario(scenarioCount, "run the fault hooks without --agents, or the check without --allow-faults"); err != nil {
		return usageError{err}
	}
	runID := scenarios.NewRunID()
	loadDriver, closeDriver, err := agentDriver(ctx, ag.with(harness.NodesInProcess, runID), &harness.Options{}, e)
	if err != nil {
		return usageError{err}
	}
	defer closeDriver()
	if err := os.MkdirAll(filepath.Join(*out, "history"), 0o755); err != nil {
		return usageError{fmt.Errorf("create output directory %s: %w", *out, err)}
	}
	counters := new(load.Counters)
	progress := reports.NewProgress(e.stderr, isTerminal(e.stderr))
	stopPoll := pollCounters(counters, progress)
	opts := deploy.Options{
		Seed: *seed, RunID: runID, AllowFaults: *allowFaults, HistoryDir: filepath.Join(*out, "history"), Load: loadDriver,
		Command: strings.Join(e.argv, " "), Counters: counters, Logger: e.log,
		OnScenario: func(name string, done *reports.Scenario) {
			if done == nil {
				progress.Scenario(name)
				return
			}
			progress.ScenarioDone(name, done.Verdict)
		},
	}
	fmt.Fprintf(e.stderr, "regify-verify check %s: %d names, %d users for %s\n", d.Name, len(d.Domains), d.Load.Users, d.Load.Duration)
	rep, err := deploy.Check(ctx, d, opts)
	stopPoll()
	progress.Done()
	if rep == nil {
		return usageError{err}
	}
	return finishReport(e, rep, *out)
}

// trySession is check --try-session.
func trySession(ctx context.Context, e *env, file, target string) error {
	if target != "" && target != file {
		return usageError{fmt.Errorf("--try-session %s and --target %s: give one deployment file", file, target)}
	}
	d, err := deploy.Load(file)
	if err != nil {
		return usageError{err}
	}
	ok, err := deploy.TrySession(ctx, d, e.stdout, deploy.Options{Logger: e.log})
	if err != nil {
		return err
	}
	if !ok {
		return failedError{"the session flow does not work end to end (see the steps above)"}
	}
	return nil
}

// printPlan prints the steps of a check without touching anything.
func printPlan(e *env, d *deploy.Deployment, allowFaults bool) error {
	fmt.Fprintf(e.stdout, "regify-verify check %s (dry run: nothing is contacted)\n\n", d.Name)
	for _, s := range deploy.Plan(d) {
		if s.Destructive && !allowFaults {
			s.What += " — SKIPPED: --allow-faults not given"
		}
		fmt.Fprintln(e.stdout, s.String())
	}
	return nil
}
