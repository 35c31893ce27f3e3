package deploy

import (
	"fmt"
	"strings"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// Rejudge judges a history of target mode ('regify-verify check')
// again. Target mode names its scenarios after the deployment ("staging",
// "staging/stop-p1"), which the catalogue does not know, and its history
// records neither which invariants judged it nor their bounds; so orig, the
// scenario of the same name in the run's report.json, says which invariants
// to judge, in its order. Each is judged again from the history with the
// bounds target mode uses (check.DefaultBounds), except what the history
// cannot decide, which is taken over from orig:
//
//   - replication-lag: its bound is the deployment's database.max_lag;
//   - stop-condition: decided during the run by the file's stop settings;
//   - tls: the certificate-validity and HSTS probes are not recorded, so
//     their evidence is kept and a failure they caused stands;
//   - stickiness: the spread over providers annotation is kept;
//   - any invariant this version does not know;
//   - a scenario error (an interrupted or failed hook).
func Rejudge(h *history.History, orig reports.Scenario) (reports.Scenario, error) {
	if h.Meta.Scenario != orig.Name {
		return reports.Scenario{}, fmt.Errorf("judge history of %q: the report names scenario %q; pass the history and report.json of the same run", h.Meta.Scenario, orig.Name)
	}
	if len(orig.Invariants) == 0 && orig.Error == "" {
		return reports.Scenario{}, fmt.Errorf("judge history of %q: report.json lists no invariants for it, so there is nothing to judge it with", h.Meta.Scenario)
	}
	byName := map[string]check.Invariant{}
	for _, inv := range targetInvariants() {
		byName[inv.Name()] = inv
	}
	var invs []reports.Invariant
	for _, o := range orig.Invariants {
		inv, ok := byName[o.Name]
		if !ok {
			invs = append(invs, carriedOver(o))
			continue
		}
		v := check.Run(h, []check.Invariant{inv})[0]
		if annotated(o.Name) {
			v = withAnnotations(v, o)
		}
		invs = append(invs, v)
	}
	dur := h.Meta.Ended.Sub(h.Meta.Started)
	if dur <= 0 {
		dur = scenarios.DefaultDuration
	}
	return reports.Scenario{
		Name: orig.Name, Description: orig.Description, Started: h.Meta.Started, Ended: h.Meta.Ended,
		Error: orig.Error, NotJudged: orig.NotJudged, Invariants: invs, Topology: orig.Topology,
		Timeline: check.Timeline(h, scenarios.TimelineBucket(dur)),
		Faults:   check.FaultWindows(h),
		Measures: h.Final.Measures,
	}, nil
}

// targetInvariants are the invariants target mode judges from its history
// alone, with the bounds it uses (see Check).
func targetInvariants() []check.Invariant {
	return check.Select(check.DefaultBounds(), func(s check.Spec) bool { return s.Deployment.Rejudged() })
}

// annotated reports whether target mode annotates the invariant with probes
// that the history does not record.
func annotated(name string) bool {
	s, ok := check.Lookup(name)
	return ok && s.Deployment == check.Annotated
}

// carriedOverNote marks an invariant taken over from the original report.
const carriedOverNote = "carried over from the original run: it was judged from settings or probes the history does not record"

func carriedOver(o reports.Invariant) reports.Invariant {
	o.Evidence = append(append([]string{}, o.Evidence...), carriedOverNote)
	return o
}

// withAnnotations keeps what target mode added to v from outside the
// history: evidence lines v lacks, a summary that extends v's, and a
// failure v does not find (an expiring certificate).
func withAnnotations(v, o reports.Invariant) reports.Invariant {
	have := map[string]bool{}
	for _, e := range v.Evidence {
		have[e] = true
	}
	for _, e := range o.Evidence {
		if !have[e] {
			v.Evidence = append(v.Evidence, e)
		}
	}
	switch {
	case o.Verdict == reports.Fail && v.Verdict != reports.Fail:
		v.Verdict, v.Summary = o.Verdict, o.Summary
		v.Evidence = append(v.Evidence, "the failure is "+carriedOverNote)
	case v.Summary != "" && strings.HasPrefix(o.Summary, v.Summary):
		v.Summary = o.Summary
	}
	return v
}
