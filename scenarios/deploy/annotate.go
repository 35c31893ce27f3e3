package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

func findInv(sc *reports.Scenario, name string) *reports.Invariant {
	for i := range sc.Invariants {
		if sc.Invariants[i].Name == name {
			return &sc.Invariants[i]
		}
	}
	return nil
}

// annotateTLS adds what the TLS probes do not judge: a certificate that
// expires within minValidity fails the tls invariant; HSTS present or not
// is information.
func annotateTLS(sc *reports.Scenario, sites []siteInfo, minValidity time.Duration, now time.Time) {
	inv := findInv(sc, check.NameTLS)
	if inv == nil {
		return
	}
	var soon []string
	for _, s := range sites {
		switch {
		case s.Err != "":
			inv.Evidence = append(inv.Evidence, fmt.Sprintf("https://%s: %s", s.Domain, s.Err))
			continue
		case s.NotAfter.IsZero():
			continue
		}
		left := s.NotAfter.Sub(now)
		line := fmt.Sprintf("%s: certificate valid until %s (%d days)", s.Domain, s.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24))
		if left < minValidity {
			soon = append(soon, line)
			line += fmt.Sprintf(", less than the %d days of tls.min_validity", int(minValidity.Hours()/24))
		}
		inv.Evidence = append(inv.Evidence, line)
		if s.HSTS != "" {
			inv.Evidence = append(inv.Evidence, fmt.Sprintf("info: %s sends HSTS (Strict-Transport-Security: %s)", s.Domain, s.HSTS))
		} else {
			inv.Evidence = append(inv.Evidence, fmt.Sprintf("info: %s sends no HSTS header (browsers may try http:// first; the redirect must catch it)", s.Domain))
		}
	}
	if len(soon) > 0 && inv.Verdict != reports.Fail {
		inv.Verdict = reports.Fail
		inv.Summary = fmt.Sprintf("%d certificates expire within tls.min_validity: renew them before go-live", len(soon))
	}
}

// annotateSpread says how the users spread over the providers, and warns
// when all landed on one: source-IP persistence then works, but the second
// provider carries nothing (nginx's ip_hash hashes only the first three
// octets of an IPv4 address, so 127.0.10.x all land on one backend).
func annotateSpread(sc *reports.Scenario, h *history.History) {
	inv := findInv(sc, check.NameStickiness)
	if inv == nil {
		return
	}
	first := map[string]string{} // source IP -> first provider that answered it
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.Provider == "" || r.SourceIP == "" || !r.OK() || r.User == "probe" {
			continue
		}
		if _, ok := first[r.SourceIP]; !ok {
			first[r.SourceIP] = r.Provider
		}
	}
	if len(first) == 0 {
		return
	}
	count := map[string]int{}
	for _, p := range first {
		count[p]++
	}
	provs := make([]string, 0, len(count))
	for p := range count {
		provs = append(provs, p)
	}
	sort.Strings(provs)
	parts := make([]string, 0, len(provs))
	for _, p := range provs {
		parts = append(parts, fmt.Sprintf("%s %d", p, count[p]))
	}
	line := fmt.Sprintf("spread of %d client IPs over providers: %s", len(first), strings.Join(parts, ", "))
	if len(provs) == 1 && len(first) > 1 {
		warn := fmt.Sprintf("warning: all %d client IPs landed on provider %s; the balancer does not spread users (nginx ip_hash hashes only the first three octets: use hash $remote_addr consistent)", len(first), provs[0])
		inv.Summary += " — " + warn
		inv.Evidence = append([]string{warn}, inv.Evidence...)
	}
	inv.Evidence = append(inv.Evidence, line)
}

// SpreadWarning reports whether a scenario's stickiness verdict carries
// the warning that every client landed on one provider.
func SpreadWarning(sc *reports.Scenario) bool {
	inv := findInv(sc, check.NameStickiness)
	return inv != nil && strings.Contains(inv.Summary, "landed on provider")
}

// configHash identifies the deployment in the repro block without its
// secrets: a hash of the plan.
func configHash(d *Deployment) string {
	sum := sha256.New()
	for _, s := range Plan(d) {
		fmt.Fprintln(sum, s.String())
	}
	return hex.EncodeToString(sum.Sum(nil))[:16]
}
