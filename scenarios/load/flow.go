package load

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Flow is how a simulated user gets, keeps and gives up a session: the
// login steps, the request that proves the session (the probe), what a
// lost session looks like, the logout, the session cookie and where a
// response names the node that served it. The fake provider's contract is
// ContractFlow; a deployment file's session: section builds another one,
// so the lab and a real appliance share one load engine.
type Flow struct {
	// Cookie is the session cookie's name, or a pattern that matches it.
	Cookie CookieName
	// Rotates means every authenticated response must set a new session
	// cookie (the guide's rule); session-continuity judges it.
	Rotates bool
	// Accounts are the credentials; user i takes Accounts[i%len]. Empty:
	// each user logs in as itself (u001, u002, …) with Config.Password.
	Accounts []Account
	// Login are the steps of one login, in order.
	Login []Step
	// Probe is the request that needs the session (the inbox).
	Probe Step
	// LoggedOut tells a lost session from any other answer.
	LoggedOut Match
	// Logout ends the session; nil when the flow has none.
	Logout *Step
	// Backend is where a response names the node that served it; the zero
	// Source means nowhere (stickiness then judges from sessions alone).
	Backend Source
	// Identity is where a response names whose session answered; the zero
	// Source means the load infers it: an authenticated answer belongs to
	// the owner of the cookie that was presented.
	Identity Source
	// Contract is set when the application is the provider contract
	// (docs/CONTRACTS.md): sends and reads (/messages) are possible, and
	// the provider reports what it saw (X-Regify-Seen).
	Contract bool
}

// Account is one set of credentials.
type Account struct {
	User     string
	Password string // never printed
}

// String names the account without its password, so a Flow printed with
// %v shows no secret.
func (a Account) String() string { return a.User + ":***" }

// GoString is String: %#v shows no secret either.
func (a Account) GoString() string { return a.String() }

// CookieName is a session cookie's name or, when Pattern is set, a
// regular expression its name matches.
type CookieName struct {
	Name    string
	Pattern *regexp.Regexp
}

// Matches reports whether a cookie's name is the session cookie's.
func (c CookieName) Matches(name string) bool {
	if c.Pattern != nil {
		return c.Pattern.MatchString(name)
	}
	return name == c.Name
}

// String is the name, or the pattern between slashes.
func (c CookieName) String() string {
	if c.Pattern != nil {
		return "/" + c.Pattern.String() + "/"
	}
	return c.Name
}

// Step is one request of a flow.
type Step struct {
	// Name says where the step is ("session.login[1]"); messages use it.
	Name   string
	Method string
	// Path is below the domain's base URL; it may hold ${var}s, and a
	// query.
	Path string
	// Form is the body (application/x-www-form-urlencoded) when set; its
	// values may hold ${var}s.
	Form []Pair
	// Header are extra request headers; values may hold ${var}s.
	Header []Pair
	// Extract sets variables from the response for the steps after.
	Extract []Extraction
	// Expect is what the answer must be for the step to succeed.
	Expect Expect
	// Follow follows redirects (at most maxRedirects) within the step.
	Follow bool
}

// Pair is one ordered name and value.
type Pair struct{ Name, Value string }

// Extraction reads one variable from a response.
type Extraction struct {
	Var  string
	From Source
}

// Source is one place in a response: a header's value, a cookie's value,
// or the first group of a regular expression on the body. At most one is
// set; the zero Source is nowhere.
type Source struct {
	Header string
	Cookie string
	Body   *regexp.Regexp
}

// IsZero reports whether the source names no place.
func (s Source) IsZero() bool { return s.Header == "" && s.Cookie == "" && s.Body == nil }

// String describes the source ("header X-Backend").
func (s Source) String() string {
	switch {
	case s.Header != "":
		return "header " + s.Header
	case s.Cookie != "":
		return "cookie " + s.Cookie
	case s.Body != nil:
		return "body /" + s.Body.String() + "/"
	}
	return "nowhere"
}

// Expect is what a step's answer must be. An empty field expects nothing.
type Expect struct {
	Status []int
	// Body must match the answer's body.
	Body *regexp.Regexp
	// Redirect must be contained in the answer's Location.
	Redirect string
}

// IsZero reports whether nothing is expected.
func (e Expect) IsZero() bool { return len(e.Status) == 0 && e.Body == nil && e.Redirect == "" }

// Match recognises an answer by any one of its fields: a status, a
// redirect whose Location contains Redirect, or a body matching Body.
type Match struct {
	Status   []int
	Redirect string
	Body     *regexp.Regexp
}

// IsZero reports whether the match recognises nothing.
func (m Match) IsZero() bool { return len(m.Status) == 0 && m.Redirect == "" && m.Body == nil }

// String describes the match for evidence and plans.
func (m Match) String() string {
	var parts []string
	if len(m.Status) > 0 {
		parts = append(parts, fmt.Sprintf("status %v", m.Status))
	}
	if m.Redirect != "" {
		parts = append(parts, "redirect to "+m.Redirect)
	}
	if m.Body != nil {
		parts = append(parts, "body /"+m.Body.String()+"/")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, " or ")
}

// Built-in variables every step may use.
const (
	VarUser     = "user"
	VarPassword = "password"
)

// varRE finds ${name} references.
var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Vars lists the ${name}s a text refers to, in order.
func Vars(s string) []string {
	var out []string
	for _, m := range varRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// expand substitutes ${name}s from vars; the caller has made sure every
// name is defined (Flow.Validate).
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return varRE.ReplaceAllStringFunc(s, func(ref string) string {
		return vars[ref[2:len(ref)-1]]
	})
}

// ContractFlow is the fake provider's contract (docs/CONTRACTS.md) written
// as a flow: a POST of user and password to /login answered 200 with the
// rotating regify_session cookie, the inbox as the probe, 401 for a lost
// session, the provider named by X-Regify-Provider and the session's user
// by X-Regify-User.
func ContractFlow(paths Paths) Flow {
	if paths.Login == "" {
		paths.Login = DefaultPaths.Login
	}
	if paths.Inbox == "" {
		paths.Inbox = DefaultPaths.Inbox
	}
	return Flow{
		Cookie:  CookieName{Name: SessionCookie},
		Rotates: true,
		Login: []Step{{
			Name: "login", Method: http.MethodPost, Path: paths.Login,
			Form:   []Pair{{"user", "${" + VarUser + "}"}, {"password", "${" + VarPassword + "}"}},
			Expect: Expect{Status: []int{http.StatusOK}},
		}},
		Probe:     Step{Name: "probe", Method: http.MethodGet, Path: paths.Inbox, Expect: Expect{Status: []int{http.StatusOK}}},
		LoggedOut: Match{Status: []int{http.StatusUnauthorized}},
		Logout:    &Step{Name: "logout", Method: http.MethodPost, Path: "/logout"},
		Backend:   Source{Header: headerProvider},
		Identity:  Source{Header: headerUser},
		Contract:  true,
	}
}

// Validate reports every problem of a flow, each naming its step: a step
// without method or path, a ${var} no earlier step extracts, a cookie
// without name, no login step.
func (f *Flow) Validate() error {
	var errs []error
	if f.Cookie.Name == "" && f.Cookie.Pattern == nil {
		errs = append(errs, errors.New("session cookie: give its name or /pattern/"))
	}
	if len(f.Login) == 0 {
		errs = append(errs, errors.New("login: give at least one step"))
	}
	defined := []string{VarUser, VarPassword}
	check := func(s *Step) {
		if s.Method == "" || s.Path == "" {
			errs = append(errs, fmt.Errorf("%s: a step needs a method and a path", s.Name))
		}
		if s.Path != "" && !strings.HasPrefix(s.Path, "/") {
			errs = append(errs, fmt.Errorf("%s: path %q: want a path starting with /", s.Name, s.Path))
		}
		texts := []string{s.Path}
		for _, p := range s.Form {
			texts = append(texts, p.Value)
		}
		for _, p := range s.Header {
			texts = append(texts, p.Value)
		}
		for _, t := range texts {
			for _, v := range Vars(t) {
				if !slices.Contains(defined, v) {
					errs = append(errs, fmt.Errorf("%s: ${%s} is never extracted by an earlier step (defined here: %s)",
						s.Name, v, strings.Join(defined, ", ")))
				}
			}
		}
		for _, x := range s.Extract {
			if x.From.IsZero() {
				errs = append(errs, fmt.Errorf("%s: extract %s: give header, cookie or body", s.Name, x.Var))
			}
			defined = append(defined, x.Var)
		}
	}
	for i := range f.Login {
		check(&f.Login[i])
	}
	// The probe and logout run later, in any turn: only what the login
	// extracted (and the built-ins) is known there.
	check(&f.Probe)
	if f.Logout != nil {
		check(f.Logout)
	}
	for _, a := range f.Accounts {
		if a.User == "" {
			errs = append(errs, errors.New("accounts: an account without user"))
		}
	}
	return errors.Join(errs...)
}

// account is user i's credentials: its account, or itself with password.
func (f *Flow) account(i int, password string) Account {
	if len(f.Accounts) == 0 {
		return Account{User: userName(i), Password: password}
	}
	return f.Accounts[i%len(f.Accounts)]
}
