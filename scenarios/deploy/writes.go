package deploy

import (
	"fmt"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// SkipReadOnly is the summary of the invariants that need sends when the
// deployment does not allow writes.
const SkipReadOnly = "the load was read-only (session.writes is not true): no messages were sent, so lost writes cannot be judged; set session.writes: true to send test messages"

// NoLostWrites is target mode's no-lost-writes. The operator's message
// rows cannot be counted, so it judges what the users saw: every
// acknowledged message a user read back later was there (a 404 means the
// write was lost, or has not reached the provider that answered). Without
// Writes the load sent nothing and the invariant is skipped, not failed.
type NoLostWrites struct {
	Writes bool
}

// Name implements check.Invariant.
func (NoLostWrites) Name() string { return check.NameNoLostWrites }

// Check implements check.Invariant.
func (n NoLostWrites) Check(h *history.History) reports.Invariant {
	if !n.Writes {
		return reports.Invariant{Name: check.NameNoLostWrites, Verdict: reports.Skip, Summary: SkipReadOnly}
	}
	at := func(r *history.Request) string {
		if h.Meta.Started.IsZero() {
			return r.Start.UTC().Format("15:04:05.000")
		}
		return fmt.Sprintf("+%.1fs", r.Start.Sub(h.Meta.Started).Seconds())
	}
	acks := map[string]*history.Request{} // tenant/id -> first acknowledgement
	var ev []string
	found, lost := 0, 0
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.MessageID == "" || r.Err != "" {
			continue
		}
		key := r.Tenant + "/" + r.MessageID
		switch {
		case r.Op == history.OpSend && (r.Status == 200 || r.Status == 201):
			if acks[key] == nil {
				acks[key] = r
			}
		case r.Op == history.OpRead && acks[key] != nil:
			switch r.Status {
			case 200:
				found++
			case 404:
				lost++
				if len(ev) < check.MaxEvidence {
					a := acks[key]
					ev = append(ev, fmt.Sprintf("message %s of %s on %s: acknowledged %d by %s at %s, read back %s by %s: 404 not found",
						r.MessageID, r.User, r.Tenant, a.Status, orUnknown(a.Provider), at(a), at(r), orUnknown(r.Provider)))
				}
			}
		}
	}
	switch {
	case len(acks) == 0:
		return reports.Invariant{Name: check.NameNoLostWrites, Verdict: reports.Skip, Summary: "no acknowledged sends in the history"}
	case lost > 0:
		if lost > len(ev) {
			ev = append(ev, fmt.Sprintf("and %d more", lost-len(ev)))
		}
		return reports.Invariant{Name: check.NameNoLostWrites, Verdict: reports.Fail, Evidence: ev,
			Summary: fmt.Sprintf("%d reads of acknowledged messages found nothing (%d found): writes were lost or did not reach the provider that answered", lost, found)}
	case found == 0:
		return reports.Invariant{Name: check.NameNoLostWrites, Verdict: reports.Skip,
			Summary: fmt.Sprintf("%d messages acknowledged, none read back during the load", len(acks))}
	}
	return reports.Invariant{Name: check.NameNoLostWrites, Verdict: reports.Pass,
		Summary: fmt.Sprintf("%d messages acknowledged; all %d reads of them found the message", len(acks), found)}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unnamed provider"
	}
	return s
}
