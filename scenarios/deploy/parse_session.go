package deploy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Keys of the session section and of the parts of a session flow.
var (
	sessionKeys = []string{"cookie", "rotates", "accounts", "login", "probe", "logged_out", "logout",
		"login_path", "probe_path", "password", "password_env", "writes"}
	// flowKeys make the session a custom flow; without any of them the
	// session is the regify contract's (login_path, probe_path).
	flowKeys = []string{"cookie", "login", "probe", "logged_out", "logout", "accounts"}
	// A login step may extract variables for the steps after it.
	loginStepKeys = []string{"method", "path", "form", "header", "extract", "expect", "follow"}
	// The probe and the logout run in any later turn: they extract nothing.
	laterStepKeys = []string{"method", "path", "form", "header", "expect", "follow"}
	expectKeys    = []string{"status", "body", "redirect"}
	loggedOutKeys = []string{"status", "redirect", "body"}
	sourceKeys    = []string{"header", "cookie", "body"}
	accountKeys   = []string{"user", "password", "password_env"}
	backendKeys   = sourceKeys
)

// varNameRE is a variable an extract: may set (${name}).
var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// session reads how the load gets, keeps and gives up a session into
// Session.Flow. Without login: steps the flow is the regify provider
// contract at login_path and probe_path (load.ContractFlow); with them it
// is the file's own flow, and cookie: and probe: are required too.
func (p *parser) session(m map[string]field) error {
	w := p.w
	s := Session{LoginPath: DefaultLoginPath, ProbePath: DefaultProbePath, Password: DefaultPassword}
	defer func() { p.d.Session = s }()
	if !present(m, "session") {
		s.Flow = load.ContractFlow(load.Paths{Login: s.LoginPath, Inbox: s.ProbePath})
		return p.validateFlow(&s.Flow, nil)
	}
	sf := m["session"]
	sec, err := w.mapping(sf.val, "session", sessionKeys...)
	if err != nil {
		return err
	}
	custom := present(sec, "login")
	if custom {
		if err := p.contractShortcuts(sec); err != nil {
			return err
		}
	} else {
		for _, k := range flowKeys {
			if present(sec, k) {
				return w.errf(sec[k].key, "session."+k, "belongs to a custom login flow: give its steps as session.login too "+
					"(or drop %s: the regify contract logs in at login_path, each user as itself u001…, with session.password)", k)
			}
		}
	}
	// The contract logs in at login_path and probes the session at
	// probe_path, below each domain's base URL (docs/CONTRACTS.md has the
	// defaults).
	for _, k := range []struct {
		key string
		dst *string
	}{{"login_path", &s.LoginPath}, {"probe_path", &s.ProbePath}} {
		if !present(sec, k.key) {
			continue
		}
		v, err := w.str(sec[k.key], "session."+k.key)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(v, "/") {
			return w.errf(sec[k.key].val, "session."+k.key, "%q: want a path starting with /", clip(v))
		}
		if strings.ContainsAny(v, "?# \t") {
			return w.errf(sec[k.key].val, "session."+k.key, "%q: want a plain path, without query, fragment or spaces", clip(v))
		}
		*k.dst = v
	}
	if present(sec, "writes") {
		if s.Writes, err = w.boolean(sec["writes"], "session.writes"); err != nil {
			return err
		}
		if s.Writes && custom {
			return w.errf(sec["writes"].val, "session.writes", "true needs the regify provider contract: sends and reads go to its /messages; "+
				"a custom login flow only logs in, probes and logs out (drop writes or the login: steps)")
		}
	}
	if present(sec, "accounts") {
		for _, k := range []string{"password", "password_env"} {
			if present(sec, k) {
				return w.errf(sec[k].key, "session."+k, "with accounts: each account carries its own password; drop session.%s", k)
			}
		}
	}
	if pw, ok, err := p.password(sec, "session"); err != nil {
		return err
	} else if ok {
		s.Password = pw
	}
	rotates := true
	if present(sec, "rotates") {
		if rotates, err = w.boolean(sec["rotates"], "session.rotates"); err != nil {
			return err
		}
	}
	if custom {
		if s.Flow, err = p.customFlow(sec, sf); err != nil {
			return err
		}
	} else {
		s.Flow = load.ContractFlow(load.Paths{Login: s.LoginPath, Inbox: s.ProbePath})
	}
	s.Flow.Rotates = rotates
	return p.validateFlow(&s.Flow, sf.key)
}

// validateFlow is a safety net behind the parser: load.Flow.Validate's
// complaints, reported at the session key.
func (p *parser) validateFlow(f *load.Flow, at *yaml.Node) error {
	if err := f.Validate(); err != nil {
		return p.w.errf(at, "session", "the session flow is not usable: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// contractShortcuts refuses login_path and probe_path beside login: steps,
// showing how the custom flow says the same.
func (p *parser) contractShortcuts(sec map[string]field) error {
	w := p.w
	if present(sec, "login_path") {
		return w.errf(sec["login_path"].key, "session.login_path",
			"login_path is the regify contract's shortcut; with login: steps give the login as those steps, e.g. login: [{method: POST, path: /login, form: {user: \"${user}\", password: \"${password}\"}}]")
	}
	if present(sec, "probe_path") {
		probe := DefaultProbePath
		if v := sec["probe_path"].val; v != nil && v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, "/") {
			probe = clip(v.Value)
		}
		return w.errf(sec["probe_path"].key, "session.probe_path",
			"probe_path is the regify contract's shortcut; with login: steps give the probe as probe: {method: GET, path: %s}", probe)
	}
	return nil
}

// password reads path.password or path.password_env (not both); ok is
// false when neither is given. Neither the password nor any part of it
// ever appears in an error.
func (p *parser) password(sec map[string]field, path string) (pw string, ok bool, err error) {
	w := p.w
	if present(sec, "password") && present(sec, "password_env") {
		return "", false, w.errf(sec["password_env"].key, path+".password_env", "give password or password_env, not both")
	}
	if present(sec, "password") {
		f := sec["password"]
		if f.val.Kind != yaml.ScalarNode || f.val.Value == "" {
			return "", false, w.errf(line(f), path+".password", "want a text value (not shown here)")
		}
		return f.val.Value, true, nil
	}
	if present(sec, "password_env") {
		f := sec["password_env"]
		name, err := w.str(f, path+".password_env")
		if err != nil {
			return "", false, err
		}
		if !envRE.MatchString(name) {
			return "", false, w.errf(f.val, path+".password_env", "%q is not an environment variable name", clip(name))
		}
		v, set := os.LookupEnv(name)
		if !set || v == "" {
			return "", false, w.errf(f.val, path+".password_env", "the environment variable %s is not set", name)
		}
		return v, true, nil
	}
	return "", false, nil
}

// customFlow reads a flow of the file's own: cookie, accounts, login
// steps, probe, logged_out and logout. Its backend comes from the
// top-level backend: (p.backend); Identity stays zero (the load infers
// whose session answered from the cookie it presented).
func (p *parser) customFlow(sec map[string]field, sf field) (load.Flow, error) {
	w := p.w
	var f load.Flow
	cf, err := w.require(sec, sf.key, "session", "cookie", "the session cookie's name, e.g. cookie: PHPSESSID, or a /pattern/ its name matches")
	if err != nil {
		return f, err
	}
	if f.Cookie, err = p.cookieName(cf, "session.cookie"); err != nil {
		return f, err
	}
	if present(sec, "accounts") {
		if f.Accounts, err = p.accounts(sec["accounts"]); err != nil {
			return f, err
		}
	}
	lf := sec["login"]
	items, err := w.list(lf, "session.login", false)
	if err != nil {
		return f, err
	}
	if len(items) == 0 {
		return f, w.errf(line(lf), "session.login", "the list is empty; give the login's steps in order, e.g. [{method: POST, path: /login, form: {user: \"${user}\", password: \"${password}\"}}]")
	}
	defined := []string{load.VarUser, load.VarPassword}
	for i, n := range items {
		path := fmt.Sprintf("session.login[%d]", i)
		st, err := p.step(field{key: lf.key, val: n}, path, loginStepKeys, defined, "an earlier login step")
		if err != nil {
			return f, err
		}
		for _, x := range st.Extract {
			if !slices.Contains(defined, x.Var) {
				defined = append(defined, x.Var)
			}
		}
		f.Login = append(f.Login, st)
	}
	pf, err := w.require(sec, sf.key, "session", "probe", "the request that needs the session, e.g. probe: {method: GET, path: /inbox, expect: {status: [200]}}")
	if err != nil {
		return f, err
	}
	if f.Probe, err = p.step(pf, "session.probe", laterStepKeys, defined, "a login step"); err != nil {
		return f, err
	}
	if f.Probe.Expect.IsZero() {
		// A probe without expect: must be answered 200.
		f.Probe.Expect = load.Expect{Status: []int{http.StatusOK}}
	}
	if present(sec, "logged_out") {
		if f.LoggedOut, err = p.loggedOut(sec["logged_out"]); err != nil {
			return f, err
		}
	} else {
		f.LoggedOut = defaultLoggedOut(f.Login[0])
	}
	if present(sec, "logout") {
		st, err := p.step(sec["logout"], "session.logout", laterStepKeys, defined, "a login step")
		if err != nil {
			return f, err
		}
		f.Logout = &st
	}
	return f, nil
}

// defaultLoggedOut is logged_out: when a custom flow does not say: status
// 401 or 403, or, when the login begins with a GET (the login form), a
// redirect to that page. The redirect is left out when the form's path
// holds a ${var} or is "/" (every Location would contain it); its query
// is dropped (Match.Redirect is a substring of Location). The contract's
// default is load.ContractFlow's, status 401.
func defaultLoggedOut(first load.Step) load.Match {
	m := load.Match{Status: []int{http.StatusUnauthorized, http.StatusForbidden}}
	if first.Method == http.MethodGet {
		path, _, _ := strings.Cut(first.Path, "?")
		if path != "/" && !strings.Contains(path, "${") {
			m.Redirect = path
		}
	}
	return m
}

// accounts reads session.accounts: users take them in turn.
func (p *parser) accounts(f field) ([]load.Account, error) {
	w := p.w
	items, err := w.list(f, "session.accounts", false)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, w.errf(line(f), "session.accounts", "the list is empty; give at least one {user, password_env} or drop the key (each user then logs in as itself with session.password)")
	}
	var out []load.Account
	for i, n := range items {
		path := fmt.Sprintf("session.accounts[%d]", i)
		m, err := w.mapping(n, path, accountKeys...)
		if err != nil {
			return nil, err
		}
		uf, err := w.require(m, n, path, "user", "the account's login name")
		if err != nil {
			return nil, err
		}
		var a load.Account
		if a.User, err = w.str(uf, path+".user"); err != nil {
			return nil, err
		}
		pw, ok, err := p.password(m, path)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, w.errf(n, path, "give the account's password as password_env: VARIABLE (or password: …)")
		}
		a.Password = pw
		out = append(out, a)
	}
	return out, nil
}

// step reads one request of the flow. keys are the step's allowed keys;
// defined are the variables its texts may use, and origin says where they
// come from in the error about one that is not defined.
func (p *parser) step(f field, path string, keys, defined []string, origin string) (load.Step, error) {
	w := p.w
	st := load.Step{Name: path, Method: http.MethodGet}
	sec, err := w.mapping(f.val, path, keys...)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Key == path+".extract" && strings.HasPrefix(e.Msg, "unknown key") {
			e.Msg = "only login steps extract variables: the probe and the logout run in any later turn and use what the login extracted"
		}
		return st, err
	}
	if present(sec, "method") {
		v, err := w.str(sec["method"], path+".method")
		if err != nil {
			return st, err
		}
		st.Method = strings.ToUpper(v)
		if !isToken(st.Method) {
			return st, w.errf(sec["method"].val, path+".method", "%q is not an HTTP method (a token such as GET or POST)", clip(v))
		}
	}
	pf, err := w.require(sec, f.val, path, "path", "the request's path below the base URL, e.g. path: /login")
	if err != nil {
		return st, err
	}
	if st.Path, err = p.stepPath(pf, path+".path", defined, origin); err != nil {
		return st, err
	}
	if present(sec, "form") {
		if st.Form, err = p.pairs(sec["form"], path+".form", "form fields to values", false, defined, origin); err != nil {
			return st, err
		}
	}
	if present(sec, "header") {
		if st.Header, err = p.pairs(sec["header"], path+".header", "header names to values", true, defined, origin); err != nil {
			return st, err
		}
	}
	if present(sec, "extract") {
		if st.Extract, err = p.extract(sec["extract"], path+".extract"); err != nil {
			return st, err
		}
	}
	if present(sec, "expect") {
		if st.Expect, err = p.expect(sec["expect"], path+".expect"); err != nil {
			return st, err
		}
	}
	if present(sec, "follow") {
		if st.Follow, err = w.boolean(sec["follow"], path+".follow"); err != nil {
			return st, err
		}
	}
	return st, nil
}

// stepPath reads a step's path: below the base URL, with an optional
// query, and ${var}s that are defined. ${password} is refused: paths
// appear in reports.
func (p *parser) stepPath(f field, path string, defined []string, origin string) (string, error) {
	w := p.w
	v, err := w.str(f, path)
	if err != nil {
		return "", err
	}
	switch {
	case !strings.HasPrefix(v, "/"):
		return "", w.errf(f.val, path, "%q: want a path starting with /", clip(v))
	case strings.HasPrefix(v, "//"):
		return "", w.errf(f.val, path, "%q: want a path below the base URL, not //host", clip(v))
	case strings.ContainsAny(v, "# \t"):
		return "", w.errf(f.val, path, "%q: want a path and optional query, without fragment or spaces", clip(v))
	}
	if _, perr := url.ParseRequestURI(varRE.ReplaceAllString(v, "x")); perr != nil {
		return "", w.errf(f.val, path, "%q is not a path: %v", clip(v), perr)
	}
	if err := p.checkVars(f.val, path, v, defined, origin); err != nil {
		return "", err
	}
	if slices.Contains(load.Vars(v), load.VarPassword) {
		return "", w.errf(f.val, path, "${password} in a path would show the password in reports; send it in form: or header:")
	}
	return v, nil
}

// varRE finds ${name} references (as load does).
var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// checkVars makes sure every ${name} of text is well formed and defined.
func (p *parser) checkVars(n *yaml.Node, path, text string, defined []string, origin string) error {
	w := p.w
	vars := load.Vars(text)
	if strings.Count(text, "${") != len(vars) {
		return w.errf(n, path, "a malformed ${…}: want ${name}, the name of letters, digits and _")
	}
	for _, v := range vars {
		if !slices.Contains(defined, v) {
			return w.errf(n, path, "${%s} is never extracted by %s (defined here: %s)", v, origin, strings.Join(defined, ", "))
		}
	}
	return nil
}

// pairs reads a mapping of names to texts in the file's order: a form
// (names are free) or headers (names are tokens).
func (p *parser) pairs(f field, path, what string, headers bool, defined []string, origin string) ([]load.Pair, error) {
	w := p.w
	items, err := w.entries(f, path, what)
	if err != nil {
		return nil, err
	}
	var out []load.Pair
	for _, it := range items {
		name, key := it.key.Value, join(path, it.key.Value)
		if headers && !isToken(name) {
			return nil, w.errf(it.key, key, "%q is not a header name", clip(name))
		}
		if strings.ContainsAny(name, "\x00\r\n") {
			return nil, w.errf(it.key, key, "a name with a NUL or line break")
		}
		v, err := w.text(it, key)
		if err != nil {
			return nil, err
		}
		if err := p.checkVars(line(it), key, v, defined, origin); err != nil {
			return nil, err
		}
		out = append(out, load.Pair{Name: name, Value: v})
	}
	return out, nil
}

// extract reads a step's extract: variable → source, in the file's order.
func (p *parser) extract(f field, path string) ([]load.Extraction, error) {
	w := p.w
	items, err := w.entries(f, path, "variables to sources (a body regex, or {header|cookie|body: …})")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, w.errf(line(f), path, "nothing to extract; drop the key or name a variable, e.g. {token: 'name=\"_token\" value=\"([^\"]+)\"'}")
	}
	var out []load.Extraction
	for _, it := range items {
		name, key := it.key.Value, join(path, it.key.Value)
		if !varNameRE.MatchString(name) {
			return nil, w.errf(it.key, key, "%q is not a variable name (letters, digits and _, used as ${name})", clip(name))
		}
		if name == load.VarUser || name == load.VarPassword {
			return nil, w.errf(it.key, key, "${%s} is built in (the account's); extract into another name", name)
		}
		src, err := p.source(it, key, true)
		if err != nil {
			return nil, err
		}
		out = append(out, load.Extraction{Var: name, From: src})
	}
	return out, nil
}

// source reads one place in a response: a mapping with exactly one of
// header, cookie and body (a regex whose first group is the value), or,
// when shorthand is set, a text that is the body regex.
func (p *parser) source(f field, path string, shorthand bool) (load.Source, error) {
	w := p.w
	var s load.Source
	if shorthand && f.val != nil && f.val.Kind == yaml.ScalarNode && f.val.Tag != "!!null" {
		re, err := p.regex(f, path, true)
		s.Body = re
		return s, err
	}
	sec, err := w.mapping(f.val, path, sourceKeys...)
	if err != nil {
		return s, err
	}
	var given []string
	for _, k := range sourceKeys {
		if _, ok := sec[k]; ok {
			given = append(given, k)
		}
	}
	if len(given) != 1 {
		got := "none"
		if len(given) > 1 {
			got = strings.Join(given, " and ")
		}
		at := f.key
		if at == nil {
			at = line(f)
		}
		return s, w.errf(at, path, "give exactly one of header, cookie or body, got %s", got)
	}
	k := given[0]
	kf, kp := sec[k], join(path, k)
	switch k {
	case "header", "cookie":
		v, err := w.str(kf, kp)
		if err != nil {
			return s, err
		}
		if !isToken(v) {
			return s, w.errf(kf.val, kp, "%q is not a %s name", clip(v), k)
		}
		if k == "header" {
			s.Header = http.CanonicalHeaderKey(v)
		} else {
			s.Cookie = v
		}
	case "body":
		if s.Body, err = p.regex(kf, kp, true); err != nil {
			return s, err
		}
	}
	return s, nil
}

// regex compiles a Go regular expression; group requires a capture group
// (the value is the first group's match).
func (p *parser) regex(f field, path string, group bool) (*regexp.Regexp, error) {
	w := p.w
	v, err := w.text(f, path)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, w.errf(f.val, path, "an empty regular expression matches everything; give one")
	}
	re, cerr := regexp.Compile(v)
	if cerr != nil {
		return nil, w.errf(f.val, path, "the regular expression does not compile: %s", strings.TrimPrefix(cerr.Error(), "error parsing regexp: "))
	}
	if group && re.NumSubexp() == 0 {
		return nil, w.errf(f.val, path, "%q has no capture group: the value is what the first ( ) matches, e.g. value=\"([^\"]+)\"", clip(v))
	}
	return re, nil
}

// expect reads what a step's answer must be.
func (p *parser) expect(f field, path string) (load.Expect, error) {
	var e load.Expect
	sec, err := p.w.mapping(f.val, path, expectKeys...)
	if err != nil {
		return e, err
	}
	e.Status, e.Body, e.Redirect, err = p.answer(sec, path)
	return e, err
}

// loggedOut reads session.logged_out: what a lost session looks like, any
// one of its fields.
func (p *parser) loggedOut(f field) (load.Match, error) {
	const path = "session.logged_out"
	var m load.Match
	sec, err := p.w.mapping(f.val, path, loggedOutKeys...)
	if err != nil {
		return m, err
	}
	if m.Status, m.Body, m.Redirect, err = p.answer(sec, path); err != nil {
		return m, err
	}
	if m.IsZero() {
		return m, p.w.errf(line(f), path, "give at least one of status, redirect or body, e.g. {status: [401, 403], redirect: /login}")
	}
	return m, nil
}

// answer reads the status, body and redirect of an expect: or logged_out:.
func (p *parser) answer(sec map[string]field, path string) (status []int, body *regexp.Regexp, redirect string, err error) {
	w := p.w
	if present(sec, "status") {
		if status, err = p.statuses(sec["status"], path+".status"); err != nil {
			return
		}
	}
	if present(sec, "body") {
		if body, err = p.regex(sec["body"], path+".body", false); err != nil {
			return
		}
	}
	if present(sec, "redirect") {
		if redirect, err = w.str(sec["redirect"], path+".redirect"); err != nil {
			return
		}
	}
	return
}

// statuses reads a status code or a list of them.
func (p *parser) statuses(f field, path string) ([]int, error) {
	w := p.w
	items, err := w.list(f, path, true)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, w.errf(line(f), path, "the list is empty; give a status such as 200 or a list [301, 302]")
	}
	var out []int
	for i, n := range items {
		ip := path
		if f.val.Kind == yaml.SequenceNode {
			ip = fmt.Sprintf("%s[%d]", path, i)
		}
		code, err := w.integer(field{key: f.key, val: n}, ip, 100, 599)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	return out, nil
}

// cookieName reads session.cookie: a cookie name, or /regex/ on the name.
func (p *parser) cookieName(f field, path string) (load.CookieName, error) {
	w := p.w
	v, err := w.str(f, path)
	if err != nil {
		return load.CookieName{}, err
	}
	if strings.HasPrefix(v, "/") {
		inner, ok := strings.CutSuffix(v[1:], "/")
		if !ok || inner == "" {
			return load.CookieName{}, w.errf(f.val, path, "%q: a pattern goes between slashes, e.g. /^SESS[0-9a-f]+$/", clip(v))
		}
		re, cerr := regexp.Compile(inner)
		if cerr != nil {
			return load.CookieName{}, w.errf(f.val, path, "the regular expression does not compile: %s", strings.TrimPrefix(cerr.Error(), "error parsing regexp: "))
		}
		return load.CookieName{Pattern: re}, nil
	}
	if !isToken(v) {
		return load.CookieName{}, w.errf(f.val, path, "%q is not a cookie name (letters, digits and !#$%%&'*+-.^_`|~), nor a /pattern/", clip(v))
	}
	return load.CookieName{Name: v}, nil
}

// backend reads where a response names the node that served it: the
// top-level backend: (one of header, cookie, body) or the older
// provider_header (X-Regify-Provider or X-Regify-Backend), not both. It
// runs after session: it sets the flow's Backend. Deployment.ProviderHeader
// stays the header the backend is named in (X-Regify-Provider when it is
// not named in a header).
func (p *parser) backend(m map[string]field) error {
	w := p.w
	p.d.ProviderHeader = DefaultProviderHeader
	if present(m, "provider_header") && present(m, "backend") {
		return w.errf(m["backend"].key, "backend", "give backend or provider_header, not both (provider_header: X-Regify-Backend is backend: {header: X-Regify-Backend})")
	}
	if present(m, "provider_header") {
		h, err := w.str(m["provider_header"], "provider_header")
		if err != nil {
			return err
		}
		switch http.CanonicalHeaderKey(h) {
		case DefaultProviderHeader, BackendHeader:
			p.d.ProviderHeader = http.CanonicalHeaderKey(h)
		default:
			return w.errf(m["provider_header"].val, "provider_header", "%q is not supported: use %s (the provider names itself) or %s (the balancer names the backend)",
				clip(h), DefaultProviderHeader, BackendHeader)
		}
		p.d.Session.Flow.Backend = load.Source{Header: p.d.ProviderHeader}
		return nil
	}
	if !present(m, "backend") {
		if !p.d.Session.Flow.Contract {
			p.d.Session.Flow.Backend = load.Source{} // stickiness judges from sessions alone
		}
		return nil
	}
	f := m["backend"]
	if f.val.Kind != yaml.MappingNode {
		return w.errf(line(f), "backend", "want a mapping with one of the keys %s, got %s", strings.Join(backendKeys, ", "), kindName(f.val))
	}
	src, err := p.source(f, "backend", false)
	if err != nil {
		return err
	}
	p.d.Session.Flow.Backend = src
	if src.Header != "" {
		p.d.ProviderHeader = src.Header
	}
	return nil
}

// isToken reports whether s is an RFC 7230 token (RFC 6265 cookie names
// and HTTP methods are tokens too).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
