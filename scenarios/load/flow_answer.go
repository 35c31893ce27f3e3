package load

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/regify-verify/regify-verify/history"
)

// maxRedirects bounds a step that follows redirects.
const maxRedirects = 10

// answer is what a step got back, as the flow judges it.
type answer struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    []byte
	err     error
}

func newAnswer(resp *http.Response, body []byte, err error) *answer {
	a := &answer{body: body, err: err}
	if resp != nil {
		a.status, a.header, a.cookies = resp.StatusCode, resp.Header, resp.Cookies()
	}
	return a
}

// read finds the source's value in an answer; ok is false when it is not
// there (a body pattern's first group, or the whole match without one).
func (s Source) read(a *answer) (string, bool) {
	switch {
	case s.Header != "":
		v := a.header.Get(s.Header)
		return v, v != ""
	case s.Cookie != "":
		for _, c := range a.cookies {
			if c.Name == s.Cookie && c.Value != "" {
				return c.Value, true
			}
		}
	case s.Body != nil:
		m := s.Body.FindSubmatch(a.body)
		switch {
		case m == nil:
		case len(m) > 1:
			return string(m[1]), true
		default:
			return string(m[0]), true
		}
	}
	return "", false
}

// met reports whether an answer is what the step expects, and if not,
// what came back against what was expected. An empty Expect takes any
// answer below 400.
func (e Expect) met(a *answer) (bool, string) {
	if a.err != nil {
		return false, "no answer: " + a.err.Error()
	}
	if e.IsZero() {
		if a.status >= 400 {
			return false, fmt.Sprintf("status %d, expected any status below 400", a.status)
		}
		return true, ""
	}
	if len(e.Status) > 0 && !slices.Contains(e.Status, a.status) {
		return false, fmt.Sprintf("status %d, expected %v%s", a.status, e.Status, locationNote(a))
	}
	if e.Redirect != "" && !strings.Contains(a.header.Get("Location"), e.Redirect) {
		return false, fmt.Sprintf("Location %q, expected one containing %q", a.header.Get("Location"), e.Redirect)
	}
	if e.Body != nil && !e.Body.Match(a.body) {
		return false, fmt.Sprintf("body (%d bytes, starting %q) does not match /%s/", len(a.body), snippet(a.body), e.Body)
	}
	return true, ""
}

// matches reports whether an answer is recognised by any one of m's
// fields.
func (m Match) matches(a *answer) bool {
	if a.err != nil {
		return false
	}
	if slices.Contains(m.Status, a.status) {
		return true
	}
	if m.Redirect != "" && a.status >= 300 && a.status < 400 && strings.Contains(a.header.Get("Location"), m.Redirect) {
		return true
	}
	return m.Body != nil && m.Body.Match(a.body)
}

func locationNote(a *answer) string {
	if l := a.header.Get("Location"); l != "" {
		return " (Location " + l + ")"
	}
	return ""
}

// snippet is the start of a body, for messages.
func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}

// sessionToken is the value of the session cookie an answer sets, if any.
func (f *Flow) sessionToken(cookies []*http.Cookie) string {
	tok := ""
	for _, c := range cookies {
		if f.Cookie.Matches(c.Name) {
			// A deleted cookie (PHP sends the old id expired before the
			// new one) is not a token.
			if c.MaxAge < 0 || c.Value == "" || c.Value == "deleted" {
				continue
			}
			tok = c.Value
		}
	}
	return tok
}

// presented is the session token among the cookies a request sends.
func (f *Flow) presented(cookies []*http.Cookie) string {
	for _, c := range cookies {
		if f.Cookie.Matches(c.Name) {
			return c.Value
		}
	}
	return ""
}

// observe fills what the flow reads from an answer into rec: the token it
// set, the node that served it, whether it showed a lost session, and
// whose session answered. owner is the user whose cookie was presented.
func (f *Flow) observe(rec *history.Request, a *answer, expect Expect, owner string) {
	if a.header == nil {
		return
	}
	rec.TokenReceived = f.sessionToken(a.cookies)
	if v, ok := f.Backend.read(a); ok {
		rec.Provider = v
	}
	if rec.Op == history.OpLogin || rec.Op == history.OpLogout {
		return
	}
	rec.LoggedOut = f.LoggedOut.matches(a)
	if !f.Identity.IsZero() {
		if v, ok := f.Identity.read(a); ok {
			rec.SessionUser = v
		}
		return
	}
	// No identity in the answer: an authenticated answer (what the step
	// expects, not a lost session) belongs to whoever's cookie it was.
	if ok, _ := expect.met(a); ok && !rec.LoggedOut && rec.TokenSent != "" {
		rec.SessionUser = owner
	}
}

// target is a step's URL below base with ${var}s expanded.
func target(base *url.URL, path string, vars map[string]string) (string, error) {
	p := expand(path, vars)
	rel, err := url.Parse(p)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", p, err)
	}
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + rel.Path
	u.RawQuery = rel.RawQuery
	return u.String(), nil
}

// Facts describe the flow for the history's meta.
func (f *Flow) Facts() *history.SessionFacts {
	s := &history.SessionFacts{Flow: "custom", Cookie: f.Cookie.String(), Rotates: f.Rotates}
	if f.Contract {
		s.Flow = "contract"
	}
	if !f.Backend.IsZero() {
		s.Backend = f.Backend.String()
	}
	if !f.Identity.IsZero() {
		s.Identity = f.Identity.String()
	}
	return s
}
