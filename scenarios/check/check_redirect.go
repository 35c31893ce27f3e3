package check

import (
	"net"
	"net/url"
	"strings"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameRedirect is the canonical name of the redirect invariant.
const NameRedirect = "redirect"

func init() {
	register(Spec{
		Name: NameRedirect, Rank: 30, Lab: true, Deployment: FromHistory,
		Summary:  "every http URL answers 301/302/307/308 to https with the same host, path and query, never content, no loops",
		Negative: []string{"neg-no-redirect", "neg-redirect-drops-query", "neg-redirect-wrong-host"},
		New:      func(b Bounds) Invariant { return Redirect{} },
	})
}

// Redirect checks the seed's rule "forward all http:// to https://": every
// redirect probe (a plain-http request) answers 301, 302, 307 or 308 with a
// Location on https, the same host (the port may be the name's https port),
// the same path and query; never content, never a redirect back to http.
// The https URL a redirect leads to, followed once, must not redirect to
// itself or back to plain http: that is a loop no browser gets out of.
type Redirect struct{}

// Name implements Invariant.
func (Redirect) Name() string { return NameRedirect }

// Check implements Invariant.
func (Redirect) Check(h *history.History) reports.Invariant {
	httpsPort := map[string]string{} // host -> port of its https URL
	for _, d := range h.Meta.Domains {
		if u, err := url.Parse(d.HTTPS); err == nil && u.Host != "" {
			httpsPort[strings.ToLower(u.Hostname())] = portOf(u)
			if d.Name != "" {
				httpsPort[strings.ToLower(d.Name)] = portOf(u)
			}
		}
	}
	base := origin(h)
	var ev evidence
	probes, bad, loops := 0, 0, 0
	for i := range h.Requests {
		r := &h.Requests[i]
		var why string
		switch r.Op {
		case history.OpRedirect:
			probes++
			if why = badRedirect(r, httpsPort); why != "" {
				bad++
			}
		case history.OpRedirectFollow:
			if why = loopingFollow(r); why != "" {
				loops++
			}
		default:
			continue
		}
		if why != "" && ev.want() {
			ev.lines = append(ev.lines, why+": "+witness(base, r)+" Location "+quoteOrNone(r.Location))
		}
	}
	if probes == 0 {
		return skip("no redirect probes (plain-http requests) in the history")
	}
	if loops > 0 {
		return fail(&ev, "%d of %d plain-http requests were not redirected to the same URL on https; %d https targets loop", bad, probes, loops)
	}
	if bad > 0 {
		return fail(&ev, "%d of %d plain-http requests were not redirected to the same URL on https", bad, probes)
	}
	return pass("all %d plain-http requests were redirected to the same host, path and query on https", probes)
}

func badRedirect(r *history.Request, httpsPort map[string]string) string {
	if r.Err != "" {
		return "no answer"
	}
	switch r.Status {
	case 301, 302, 307, 308:
	default:
		if r.Status >= 200 && r.Status < 300 {
			return "content over plain http"
		}
		return "not a redirect"
	}
	loc, err := url.Parse(r.Location)
	if err != nil || r.Location == "" {
		return "no valid Location"
	}
	if loc.Scheme == "http" {
		return "redirect to http (loop)"
	}
	if loc.Scheme != "https" {
		return "Location is not absolute https"
	}
	req, err := url.Parse(r.URL)
	if err != nil {
		return "request URL unparsable"
	}
	host := strings.ToLower(req.Hostname())
	if r.Tenant != "" && net.ParseIP(host) != nil {
		host = strings.ToLower(r.Tenant) // probed by public IP with a Host header
	}
	if !strings.EqualFold(loc.Hostname(), host) {
		return "different host"
	}
	want, known := httpsPort[host]
	if !known {
		want = "443"
	}
	if portOf(loc) != want {
		return "wrong https port (want " + want + ")"
	}
	if cleanPath(loc.EscapedPath()) != cleanPath(req.EscapedPath()) {
		return "different path"
	}
	if loc.RawQuery != req.RawQuery {
		return "different query"
	}
	return ""
}

// loopingFollow says why the https request a redirect led to loops: it
// redirects back to plain http, or to itself. Other answers (a login page's
// own redirect, an error) are the page's business, not the balancer's.
func loopingFollow(r *history.Request) string {
	switch r.Status {
	case 301, 302, 303, 307, 308:
	default:
		return ""
	}
	loc, err := url.Parse(r.Location)
	if err != nil {
		return ""
	}
	req, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	if loc.Scheme == "http" {
		return "https target redirects back to http (loop)"
	}
	if !loc.IsAbs() {
		loc = req.ResolveReference(loc)
	}
	if strings.EqualFold(loc.Hostname(), req.Hostname()) && portOf(loc) == portOf(req) &&
		cleanPath(loc.EscapedPath()) == cleanPath(req.EscapedPath()) && loc.RawQuery == req.RawQuery {
		return "https target redirects to itself (loop)"
	}
	return ""
}

// portOf is the URL's port, or the scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}

func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// hostOnly strips a port from an address, tolerating none, without
// allocating: it runs once per request.
func hostOnly(addr string) string {
	if strings.HasPrefix(addr, "[") { // [v6] or [v6]:port
		if end := strings.IndexByte(addr, ']'); end > 0 {
			return addr[1:end]
		}
		return addr
	}
	if i := strings.IndexByte(addr, ':'); i >= 0 && strings.LastIndexByte(addr, ':') == i {
		return addr[:i] // host:port
	}
	return addr // a bare host or a bare IPv6 address
}
