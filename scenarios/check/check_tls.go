package check

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameTLS is the canonical name of the tls invariant.
const NameTLS = "tls"

func init() {
	register(Spec{
		Name: NameTLS, Rank: 40, Lab: true, Deployment: Annotated,
		Summary:  "each name gets its own valid certificate by SNI and per public IP, TLS ≥ 1.2",
		Negative: []string{"neg-wrong-certificate"},
		New:      func(b Bounds) Invariant { return TLS{} },
	})
}

// TLS checks that each public name gets its own valid certificate: every TLS
// probe verified, negotiated TLS 1.2 or newer, and the certificate names the
// expected host; every public IP was probed both with SNI and without
// (clients without SNI get the certificate of the IP); and every handshake
// that offered only TLS 1.0 and 1.1 (probes by TLSLegacyProbeUser) was
// refused.
type TLS struct{}

// TLSLegacyProbeUser is the User of the tls-probe records whose handshake
// offered only TLS 1.0 and 1.1 (load.LegacyTLSProbeUser): such a handshake
// must fail, and one that succeeded fails the invariant.
const TLSLegacyProbeUser = "probe-legacy-tls"

// Name implements Invariant.
func (TLS) Name() string { return NameTLS }

type sniSeen struct{ with, without bool }

// Check implements Invariant.
func (TLS) Check(h *history.History) reports.Invariant {
	base := origin(h)
	perIP := map[string]*sniSeen{}
	var ips []string
	note := func(ip string) *sniSeen {
		s := perIP[ip]
		if s == nil {
			s = &sniSeen{}
			perIP[ip] = s
			ips = append(ips, ip)
		}
		return s
	}
	for _, d := range h.Meta.Domains {
		if d.PublicIP != "" {
			note(hostOnly(d.PublicIP))
		}
	}
	var ev evidence
	probes, legacy := 0, 0
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.Op != history.OpTLS || r.TLS == nil {
			continue
		}
		probes++
		t := r.TLS
		if r.User == TLSLegacyProbeUser {
			legacy++
			// A refused handshake leaves no version; a connection that
			// failed before it is reported by the other probes.
			if r.Err == "" && t.Version != "" && !tlsAtLeast12(t.Version) && ev.want() {
				ev.lines = append(ev.lines, offset(base, r.Start)+" "+t.Expected+" at "+t.Address+" accepted "+t.Version+
					" from a client offering only TLS 1.0 and 1.1: disable TLS 1.0 and 1.1 on the balancer")
			}
			continue
		}
		if t.Address != "" {
			s := note(hostOnly(t.Address))
			if t.ServerName != "" {
				s.with = true
			} else {
				s.without = true
			}
		}
		var why string
		switch {
		case r.Err != "":
			why = "handshake failed: " + r.Err
		case !t.Verified:
			why = "not verified: " + t.VerifyErr
		case !tlsAtLeast12(t.Version):
			why = "old protocol " + quoteOrNone(t.Version)
		case t.Expected != "" && !namesCover(t.PeerNames, t.Expected):
			why = "certificate for " + strings.Join(t.PeerNames, ",") + ", want " + t.Expected
		}
		if why != "" && ev.want() {
			ev.lines = append(ev.lines, offset(base, r.Start)+" "+t.Address+" SNI "+quoteOrNone(t.ServerName)+": "+why)
		}
	}
	if probes == 0 {
		return skip("no TLS probes in the history")
	}
	for _, ip := range ips {
		s := perIP[ip]
		if !s.with {
			ev.addf("public IP %s was not probed with SNI", ip)
		}
		if !s.without {
			ev.addf("public IP %s was not probed without SNI", ip)
		}
	}
	if ev.count() > 0 {
		return fail(&ev, "%d problems in %d TLS probes of %d public IPs", ev.count(), probes, len(ips))
	}
	refused := ""
	if legacy > 0 {
		refused = fmt.Sprintf("; %d handshakes offering only TLS 1.0/1.1 refused", legacy)
	}
	return pass("%d TLS probes of %d public IPs, with and without SNI: certificates valid for their names, TLS ≥ 1.2%s", probes, len(ips), refused)
}

// tlsAtLeast12 accepts "TLS 1.2", "TLS 1.3" and newer; SSL and TLS 1.0/1.1 fail.
func tlsAtLeast12(v string) bool {
	rest, ok := strings.CutPrefix(v, "TLS 1.")
	if !ok {
		return false
	}
	minor, err := strconv.Atoi(rest)
	return err == nil && minor >= 2
}

// namesCover reports whether a certificate's DNS names cover host, with
// single-label wildcards.
func namesCover(names []string, host string) bool {
	host = strings.ToLower(host)
	return slices.ContainsFunc(names, func(n string) bool {
		n = strings.ToLower(n)
		if n == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(n, "*."); ok {
			label, rest, found := strings.Cut(host, ".")
			return found && label != "" && rest == suffix
		}
		return false
	})
}
