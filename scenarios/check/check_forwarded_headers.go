package check

import (
	"net/url"
	"strings"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameForwardedHeaders is the canonical name of the forwarded-headers invariant.
const NameForwardedHeaders = "forwarded-headers"

func init() {
	register(Spec{
		Name: NameForwardedHeaders, Rank: 50, Lab: true, Deployment: FromHistory,
		Summary:  "providers saw X-Forwarded-Proto: https and the real client IP (PROXY protocol in passthrough)",
		Needs:    NeedsForwardedHeaders,
		Negative: []string{"neg-no-forwarded-proto"},
		New:      func(b Bounds) Invariant { return ForwardedHeaders{} },
	})
}

// ForwardedHeaders checks what providers learn behind the balancer. With SSL
// offloading they must see X-Forwarded-Proto: https and the client's address
// as the last X-Forwarded-For hop (or Forwarded for=); in passthrough mode
// the request reaches them over TLS and the client's address arrives as the
// remote address (PROXY protocol) or a forwarded header.
type ForwardedHeaders struct{}

// Name implements Invariant.
func (ForwardedHeaders) Name() string { return NameForwardedHeaders }

// Check implements Invariant.
func (ForwardedHeaders) Check(h *history.History) reports.Invariant {
	passthrough := h.Meta.Mode == "passthrough"
	base := origin(h)
	var ev evidence
	seen := 0
	for i := range h.Requests {
		r := &h.Requests[i]
		if r.Seen == nil || strings.HasPrefix(r.URL, "http:") {
			continue // plain-http requests are the redirect check's business
		}
		seen++
		s := r.Seen
		var why string
		switch {
		case passthrough && !s.TLS:
			why = "reached the provider without TLS in passthrough mode"
		case !passthrough && s.XForwardedProto != "https":
			why = "X-Forwarded-Proto " + quoteOrNone(s.XForwardedProto) + ", want https"
		case r.SourceIP != "" && !clientSeen(s, r.SourceIP, passthrough):
			why = "client " + r.SourceIP + " not the last hop (X-Forwarded-For " + quoteOrNone(s.XForwardedFor) +
				", Forwarded " + quoteOrNone(s.Forwarded) + ", remote " + quoteOrNone(s.RemoteAddr) + ")"
		}
		if why != "" && ev.want() {
			ev.lines = append(ev.lines, why+": "+witness(base, r))
		}
	}
	if seen == 0 {
		return skip("providers reported no forwarded headers (X-Regify-Seen) in the history")
	}
	mode := "offload"
	if passthrough {
		mode = "passthrough"
	}
	if ev.count() > 0 {
		return fail(&ev, "%d of %d requests reached the provider without the original scheme or client address (%s mode)", ev.count(), seen, mode)
	}
	return pass("all %d requests reached the provider with the original scheme and client address (%s mode)", seen, mode)
}

// clientSeen reports whether ip appears as the last X-Forwarded-For hop, the
// last Forwarded for=, or, in passthrough mode, the remote address.
func clientSeen(s *history.Seen, ip string, passthrough bool) bool {
	if s.XForwardedFor != "" && lastHop(s.XForwardedFor) == ip {
		return true
	}
	if s.Forwarded != "" && lastForwardedFor(s.Forwarded) == ip {
		return true
	}
	return passthrough && hostOnly(s.RemoteAddr) == ip
}

func lastHop(list string) string {
	if i := strings.LastIndexByte(list, ','); i >= 0 {
		list = list[i+1:]
	}
	return hostOnly(strings.TrimSpace(list))
}

// lastForwardedFor returns the for= of the last element of an RFC 7239
// Forwarded header, without quotes, brackets or port.
func lastForwardedFor(f string) string {
	if i := strings.LastIndexByte(f, ','); i >= 0 {
		f = f[i+1:]
	}
	for pair := range strings.SplitSeq(f, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(k, "for") {
			v = strings.Trim(v, `"`)
			if u, err := url.Parse("//" + v); err == nil && u.Host != "" {
				return u.Hostname()
			}
			return hostOnly(v)
		}
	}
	return ""
}
