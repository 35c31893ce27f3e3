package check

import (
	"fmt"
	"strings"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameReachability is the canonical name of the reachability invariant,
// target mode's own: without it an unreachable balancer would read as a row
// of skipped invariants.
const NameReachability = "reachability"

func init() {
	register(Spec{
		Name: NameReachability, Rank: 140, Deployment: FromHistory,
		Summary: "every public name answers at all, on https and (when given) on http, and users get a session",
		New:     func(Bounds) Invariant { return Reachability{} },
	})
}

// Reachability checks that every public name answered at all, on https and
// (when given) on http. An unreachable balancer or a certificate that does
// not verify would otherwise read as a row of skipped invariants; this one
// fails and says why in plain words.
type Reachability struct{}

// Name implements Invariant.
func (Reachability) Name() string { return NameReachability }

type reach struct {
	tried, answered int
	firstErr        string
	// login requests tried and authenticated answers seen (a session's
	// user named, or inferred from the flow); the URL and status of the
	// last login request answered
	logins, loggedIn int
	loginURL         string
	loginStatus      int
}

// Check implements Invariant.
func (Reachability) Check(h *history.History) reports.Invariant {
	per := map[string]*reach{}
	key := func(tenant, scheme string) string { return scheme + "://" + tenant }
	for _, d := range h.Meta.Domains {
		per[key(d.Name, "https")] = &reach{}
		if d.HTTP != "" {
			per[key(d.Name, "http")] = &reach{}
		}
	}
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.Op == history.OpTLS {
			continue
		}
		scheme, _, ok := strings.Cut(r.URL, "://")
		if !ok {
			continue
		}
		c := per[key(r.Tenant, scheme)]
		if c == nil {
			continue
		}
		c.tried++
		switch {
		case r.Op == history.OpLogin:
			c.logins++
			if r.Status > 0 {
				c.loginURL, c.loginStatus = r.URL, r.Status
			}
		case r.SessionUser != "" && r.OK():
			c.loggedIn++
		}
		if r.Status > 0 {
			c.answered++
		} else if c.firstErr == "" {
			c.firstErr = r.Err
		}
	}
	inv := reports.Invariant{Name: NameReachability, Verdict: reports.Pass}
	answered := 0
	for _, d := range h.Meta.Domains {
		for _, scheme := range []string{"https", "http"} {
			c := per[key(d.Name, scheme)]
			if c == nil {
				continue
			}
			switch {
			case c.tried == 0:
				// Not asked in this scenario (fault scenarios skip the probes).
			case c.answered == 0:
				inv.Evidence = append(inv.Evidence, fmt.Sprintf("%s://%s did not answer any of %d requests: %s", scheme, d.Name, c.tried, PlainReason(c.firstErr)))
			case c.logins > 0 && c.loggedIn == 0 && c.loginStatus > 0:
				// It answers, but no user got a session: the invariants that
				// need one would all be skipped.
				inv.Evidence = append(inv.Evidence, fmt.Sprintf("%s://%s answered, but none of %d login requests led to a session (%s answered %d): check the session: section (run check --try-session) and the test password",
					scheme, d.Name, c.logins, c.loginURL, c.loginStatus))
			default:
				answered++
			}
		}
	}
	if answered == 0 && len(inv.Evidence) == 0 {
		return reports.Invariant{Name: NameReachability, Verdict: reports.Skip, Summary: "no request to a public URL in the history"}
	}
	if len(inv.Evidence) > 0 {
		inv.Verdict = reports.Fail
		inv.Summary = fmt.Sprintf("%d of %d public URLs never answered or gave no session: the deployment could not be judged there", len(inv.Evidence), len(inv.Evidence)+answered)
		return inv
	}
	inv.Summary = fmt.Sprintf("all %d public URLs answered", answered)
	return inv
}
