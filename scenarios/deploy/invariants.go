package deploy

import "github.com/regify-verify/regify-verify/scenarios/check"

// NameReachability is target mode's own invariant: every public name
// answered at all (check.Reachability).
const NameReachability = check.NameReachability

// Reachability is check.Reachability, target mode's own invariant.
type Reachability = check.Reachability

// baselineInvariants are the invariants of a plain deployment run, derived
// from the registry: every invariant target mode judges from the history
// (not those decided during the run), no-lost-writes as target mode's
// read-back NoLostWrites, which needs no database, and the database ones
// only when the file has a database section.
func baselineInvariants(d *Deployment, b check.Bounds) []check.Invariant {
	deployed := func(s check.Spec) bool {
		return s.Deployment != check.LabOnly && s.Name != check.NameNoLostWrites
	}
	invs := check.Select(b, func(s check.Spec) bool { return deployed(s) && !s.Needs.Has(check.NeedsDatabase) })
	invs = append(invs, NoLostWrites{Writes: d.Session.Writes})
	if d.Database != nil {
		invs = append(invs, check.Select(b, func(s check.Spec) bool { return deployed(s) && s.Needs.Has(check.NeedsDatabase) })...)
	}
	return invs
}
