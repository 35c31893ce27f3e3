package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
)

// cmdShrink looks for the smallest fault schedule of a failed run that
// still fails, and keeps it as a scenario file.
func cmdShrink(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "shrink", "shrink --from DIR [--scenario NAME] [--invariant NAME ...] [--out FILE] [--max-runs N]")
	from := fs.String("from", "", "the --out directory of a failed run (its report.json)")
	name := fs.String("scenario", "", "the failed scenario to shrink; default: the first failed one with a fault schedule")
	out := fs.String("out", "", "where to write the smallest schedule as a scenario file; default: DIR/<scenario>-shrunk.yaml")
	maxRuns := fs.Int("max-runs", 25, "bound on the runs (each brings a lab up and runs the whole load)")
	var only stringList
	fs.Var(&only, "invariant", "keep this failure (repeatable); default: every invariant that failed must fail again")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return usageError{errors.New("--from is required: the --out directory of the failed run")}
	}
	if *maxRuns < 1 {
		return usageError{fmt.Errorf("--max-runs %d: at least 1", *maxRuns)}
	}
	rep, err := reports.ReadJSON(filepath.Join(*from, "report.json"))
	if err != nil {
		return usageError{fmt.Errorf("read %s: %w", filepath.Join(*from, "report.json"), err)}
	}
	sc, err := shrinkable(rep, *name)
	if err != nil {
		return usageError{err}
	}
	set, err := rerunSettings(rep.Repro.Command)
	if err != nil {
		return usageError{err}
	}
	full := scenarios.ScenarioFile{
		Name: sc.Name + "-shrunk", Seed: rep.Seed, Duration: sc.Load.String(), Users: set.users, Rate: set.rate,
		Lab: set.lab, Fails: failedInvariants(*sc),
	}
	if len(only) > 0 {
		for _, n := range only {
			if !slices.Contains(full.Fails, n) {
				return usageError{fmt.Errorf("--invariant %s: it did not fail in %s (failed: %s)", n, sc.Name, strings.Join(full.Fails, ", "))}
			}
		}
		full.Fails = only
	}
	for _, p := range sc.Schedule {
		full.Faults = append(full.Faults, p.Spec)
	}
	var lab *scenarios.Scenario
	if set.lab != "" {
		if lab, err = borrowLab(set.lab); err != nil {
			return usageError{fmt.Errorf("the run's lab %s: %w", set.lab, err)}
		}
	}
	if *out == "" {
		*out = filepath.Join(*from, full.Name+".yaml")
	}
	harness.PrepareEnv()
	fmt.Fprintf(e.stderr, "regify-verify shrink: %s failed %s with %d faults (seed %d); at most %d runs\n",
		sc.Name, strings.Join(full.Fails, ", "), len(full.Faults), rep.Seed, *maxRuns)
	run := func(ctx context.Context, f scenarios.ScenarioFile) ([]string, error) {
		spec, err := f.Spec(lab)
		if err != nil {
			return nil, err
		}
		res, err := scenarios.Execute(ctx, spec, scenarios.Config{
			Seed: f.Seed, RunID: scenarios.NewRunID(), Logger: labLogger(e),
			Base: harness.Options{DB: harness.PairOptions{Backend: set.backend, Image: set.image}},
		})
		if err != nil {
			return nil, err
		}
		failed := failedInvariants(res.Report)
		fmt.Fprintf(e.stderr, "  %d faults: %s\n", len(f.Faults), orNone(failed))
		return failed, nil
	}
	small, steps, err := scenarios.Shrink(ctx, full, full.Fails, *maxRuns, run)
	printShrink(e.stdout, full, small, len(steps))
	if err != nil && len(steps) <= 1 {
		return err
	}
	if werr := small.Write(*out); werr != nil {
		return werr
	}
	fmt.Fprintf(e.stdout, "\nkept as %s: regify-verify run --scenario-file %s\n", *out, *out)
	return err
}

// shrinkable is the scenario to shrink: the named one, or the first
// failed one with a schedule.
func shrinkable(rep *reports.Report, name string) (*reports.Scenario, error) {
	for i := range rep.Scenarios {
		sc := &rep.Scenarios[i]
		if name != "" && sc.Name != name {
			continue
		}
		if name == "" && (sc.Verdict != reports.Fail || sc.Negative || len(sc.Schedule) == 0) {
			continue
		}
		if len(failedInvariants(*sc)) == 0 {
			return nil, fmt.Errorf("scenario %s failed no invariant: there is no failure to shrink", sc.Name)
		}
		if len(sc.Schedule) == 0 || sc.Load <= 0 {
			return nil, fmt.Errorf("scenario %s has no recorded fault schedule (a report of an older version?): run it again, then shrink", sc.Name)
		}
		return sc, nil
	}
	if name != "" {
		return nil, fmt.Errorf("the run has no scenario %q", name)
	}
	return nil, errors.New("the run has no failed scenario with a fault schedule (negative controls are meant to fail)")
}

func failedInvariants(sc reports.Scenario) []string {
	var out []string
	for _, inv := range sc.Invariants {
		if inv.Verdict == reports.Fail {
			out = append(out, inv.Name)
		}
	}
	return out
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no invariant failed"
	}
	return "failed " + strings.Join(names, ", ")
}

// rerun are the settings of the original run that a shrink keeps.
type rerun struct {
	users, rate    int
	lab            string
	backend, image string
}

// rerunSettings reads them from the report's rerun command line.
func rerunSettings(repro string) (rerun, error) {
	var r rerun
	words := shellWords(repro)
	if len(words) < 2 {
		return r, nil
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var ignored stringList
	fs.Var(&ignored, "scenario", "")
	fs.Var(&ignored, "fault", "")
	nemesis := fs.String("nemesis", "", "")
	fs.String("scenario-file", "", "")
	fs.Int64("seed", 0, "")
	fs.String("out", "", "")
	fs.Duration("duration", 0, "")
	fs.Bool("dry-run", false, "")
	fs.IntVar(&r.users, "users", 0, "")
	fs.IntVar(&r.rate, "rate", 0, "")
	fs.StringVar(&r.backend, "db-backend", "", "")
	fs.StringVar(&r.image, "mariadb-image", "", "")
	if err := fs.Parse(words[2:]); err != nil {
		return r, fmt.Errorf("read the run's command line %q: %w", repro, err)
	}
	if *nemesis != "" {
		_, lab, err := scenarios.ParseNemesis(*nemesis)
		if err != nil {
			return r, err
		}
		r.lab = lab
	}
	return r, nil
}

// shellWords splits a command line written by commandLine (words quoted
// with single quotes where needed).
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, started := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			in, started = !in, true
		case c == ' ' && !in:
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
		case c == '\\' && !in && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			started = true
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if started {
		out = append(out, cur.String())
	}
	return out
}

// printShrink shows the schedule before and after.
func printShrink(w io.Writer, full, small scenarios.ScenarioFile, runs int) {
	fmt.Fprintf(w, "\nschedule before (%d faults):\n", len(full.Faults))
	for _, f := range full.Faults {
		fmt.Fprintf(w, "  %s\n", f)
	}
	fmt.Fprintf(w, "smallest schedule that still fails %s (%d faults, %d runs):\n", strings.Join(full.Fails, ", "), len(small.Faults), runs)
	if len(small.Faults) == 0 {
		fmt.Fprintln(w, "  none: the failure needs no fault at all")
	}
	for _, f := range small.Faults {
		fmt.Fprintf(w, "  %s\n", f)
	}
}
