package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/catalogue"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/deploy"
)

// cmdReport re-renders the reports of an earlier run from its report.json,
// or re-judges its recorded histories with the current invariants.
func cmdReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "report --from DIR [--out DIR] [--rejudge]")
	from := fs.String("from", "", "the --out directory of an earlier run (holds report.json and history/)")
	out := fs.String("out", "", "where to write the reports; default: the --from directory")
	rejudge := fs.Bool("rejudge", false, "judge the recorded histories again instead of re-rendering report.json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return usageError{errors.New("--from DIR is required: the output directory of an earlier run")}
	}
	if *out == "" {
		*out = *from
	}
	old, oldErr := reports.ReadJSON(filepath.Join(*from, "report.json"))
	if !*rejudge {
		if oldErr != nil {
			return usageError{fmt.Errorf("read %s: %w (use --rejudge to rebuild it from the histories)", filepath.Join(*from, "report.json"), oldErr)}
		}
		return finishReport(e, old, *out)
	}
	hs, err := scenarios.ReadHistories(filepath.Join(*from, "history"))
	if err != nil {
		return usageError{err}
	}
	rep := &reports.Report{Mode: "lab", Started: time.Now(), InvariantOrder: check.Names()}
	if oldErr == nil {
		rep.RunID, rep.Seed, rep.Mode, rep.Repro, rep.Started = old.RunID, old.Seed, old.Mode, old.Repro, old.Started
	} else if len(hs) > 0 {
		rep.RunID, rep.Seed, rep.Started = hs[0].Meta.RunID, hs[0].Meta.Seed, hs[0].Meta.Started
	}
	for _, h := range hs {
		var orig *reports.Scenario
		if oldErr == nil {
			for i := range old.Scenarios {
				if old.Scenarios[i].Name == h.Meta.Scenario {
					orig = &old.Scenarios[i]
				}
			}
		}
		var sc reports.Scenario
		switch {
		case rep.Mode == "target" && orig == nil:
			return usageError{fmt.Errorf("re-judge history of %q: report.json of this 'regify-verify check' run has no scenario of that name, and only it says which invariants judged the history", h.Meta.Scenario)}
		case rep.Mode == "target":
			sc, err = deploy.Rejudge(h, *orig)
		default:
			sc, err = scenarios.Judge(h, catalogue.Lookup)
			if err == nil && orig != nil {
				sc.Topology = orig.Topology
			}
		}
		if err != nil {
			return usageError{err}
		}
		rep.Scenarios = append(rep.Scenarios, sc)
	}
	rep.Ended = time.Now()
	rep.Finish()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	return finishReport(e, rep, *out)
}
