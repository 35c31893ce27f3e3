package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/scenarios/load"
)

// sessionHead is the six lines before each test's session: the first line
// a test adds is line 7.
const sessionHead = "name: x\ndomains:\n  - name: abc.test\n    https: https://abc.test:8443/\nclients:\n  source_ips: 127.0.10.1-127.0.10.3\n"

// lines is a deployment file: sessionHead and then the given lines from
// line 7 on.
func lines(l ...string) []byte { return []byte(sessionHead + strings.Join(l, "\n") + "\n") }

// kv makes pairs of names and values.
func kv(nv ...string) []load.Pair {
	var out []load.Pair
	for i := 0; i+1 < len(nv); i += 2 {
		out = append(out, load.Pair{Name: nv[i], Value: nv[i+1]})
	}
	return out
}

// stepView is a load.Step with its regexes as text, for comparison.
type stepView struct {
	Name, Method, Path string
	Form, Header       []load.Pair
	Extract            []string // var <- source
	Status             []int
	Body, Redirect     string
	Follow             bool
}

// flowView is a load.Flow with its regexes as text.
type flowView struct {
	Cookie     string // a name, or /pattern/
	Rotates    bool
	Accounts   []load.Account
	Login      []stepView
	Probe      stepView
	LoggedOut  string
	Logout     *stepView
	Backend    string
	Identity   string
	IsContract bool
}

func viewStep(s load.Step) stepView {
	v := stepView{Name: s.Name, Method: s.Method, Path: s.Path, Form: s.Form, Header: s.Header,
		Status: s.Expect.Status, Redirect: s.Expect.Redirect, Follow: s.Follow}
	if s.Expect.Body != nil {
		v.Body = s.Expect.Body.String()
	}
	for _, x := range s.Extract {
		v.Extract = append(v.Extract, x.Var+" <- "+x.From.String())
	}
	return v
}

func viewFlow(f load.Flow) flowView {
	v := flowView{Cookie: f.Cookie.String(), Rotates: f.Rotates, Accounts: f.Accounts, Probe: viewStep(f.Probe),
		LoggedOut: f.LoggedOut.String(), Backend: f.Backend.String(), Identity: f.Identity.String(), IsContract: f.Contract}
	for _, s := range f.Login {
		v.Login = append(v.Login, viewStep(s))
	}
	if f.Logout != nil {
		lo := viewStep(*f.Logout)
		v.Logout = &lo
	}
	return v
}

// TestParseSessionFlow: a full custom flow (a PHP appliance's login with a
// CSRF token) reaches load.Flow field by field.
func TestParseSessionFlow(t *testing.T) {
	t.Setenv("RV_TEST_ACCOUNT_PW", "topsecret-env")
	d, err := Parse(lines(
		`session:`,
		`  cookie: APPSESSION`,
		`  rotates: false`,
		`  accounts:`,
		`    - {user: acceptance-1@example.com, password_env: RV_TEST_ACCOUNT_PW}`,
		`    - {user: acceptance-2@example.com, password: topsecret-2}`,
		`  login:`,
		`    - {method: get, path: "/login", extract: {token: 'name="_token" value="([^"]+)"'}}`,
		`    - method: POST`,
		`      path: /login?lang=en`,
		`      form: {login: "${user}", passwd: "${password}", _token: "${token}", remember: ""}`,
		`      header: {x-csrf-token: "${token}"}`,
		`      extract: {sid: {cookie: APPSESSION}, who: {header: x-user}, ver: {body: 'v=(\d+)'}}`,
		`      expect: {status: [302, 303], redirect: /mail}`,
		`      follow: false`,
		`  probe: {path: "/mail/inbox?u=${who}", expect: {status: 200, body: "Inbox"}}`,
		`  logged_out: {status: [401, 403], redirect: "/login", body: 'name="passwd"'}`,
		`  logout: {method: POST, path: "/logout", form: {_token: "${token}"}, follow: true}`,
		`  writes: false`,
		`backend:`,
		`  body: 'served-by: ([a-z0-9-]+)'`,
	), "d.yaml")
	require.NoError(t, err)
	want := flowView{
		Cookie:  "APPSESSION",
		Rotates: false,
		Accounts: []load.Account{
			{User: "acceptance-1@example.com", Password: "topsecret-env"},
			{User: "acceptance-2@example.com", Password: "topsecret-2"},
		},
		Login: []stepView{
			{Name: "session.login[0]", Method: "GET", Path: "/login", Extract: []string{`token <- body /name="_token" value="([^"]+)"/`}},
			{Name: "session.login[1]", Method: "POST", Path: "/login?lang=en",
				Form:    kv("login", "${user}", "passwd", "${password}", "_token", "${token}", "remember", ""),
				Header:  kv("x-csrf-token", "${token}"),
				Extract: []string{"sid <- cookie APPSESSION", "who <- header X-User", `ver <- body /v=(\d+)/`},
				Status:  []int{302, 303}, Redirect: "/mail"},
		},
		Probe:     stepView{Name: "session.probe", Method: "GET", Path: "/mail/inbox?u=${who}", Status: []int{200}, Body: "Inbox"},
		LoggedOut: `status [401 403] or redirect to /login or body /name="passwd"/`,
		Logout:    &stepView{Name: "session.logout", Method: "POST", Path: "/logout", Form: kv("_token", "${token}"), Follow: true},
		Backend:   `body /served-by: ([a-z0-9-]+)/`,
		Identity:  "nowhere",
	}
	assert.Equal(t, want, viewFlow(d.Session.Flow))
	assert.NoError(t, d.Session.Flow.Validate())
	// The contract's fields keep their defaults; the users take the accounts.
	assert.Equal(t, DefaultLoginPath, d.Session.LoginPath)
	assert.Equal(t, DefaultPassword, d.Session.Password)
	assert.False(t, d.Session.Writes)
	// Account passwords are secrets like session.password.
	assert.Equal(t, "login as *** and ***", redactText(d, "login as topsecret-env and topsecret-2"))
}

// TestParseSessionFlowDefaults: what a custom flow gets when it says
// little, and what the contract keeps.
func TestParseSessionFlowDefaults(t *testing.T) {
	t.Setenv("RV_TEST_PW", "from-env")
	contract := func(login, probe string) *flowView {
		v := viewFlow(load.ContractFlow(load.Paths{Login: login, Inbox: probe}))
		return &v
	}
	contractWith := func(change func(*flowView)) *flowView {
		v := contract("/login", "/inbox")
		change(v)
		return v
	}
	tests := []struct {
		name     string
		yaml     []byte
		flow     *flowView      // the whole flow, or
		check    func(flowView) // checks of some fields
		provider string         // Deployment.ProviderHeader
		password string         // Session.Password
	}{
		{name: "no session: the contract", yaml: lines(), flow: contract("/login", "/inbox")},
		{name: "contract paths", yaml: lines(`session: {login_path: /auth/signin, probe_path: /home}`), flow: contract("/auth/signin", "/home")},
		{name: "contract with password_env and writes", yaml: lines(`session: {password_env: RV_TEST_PW, writes: true}`),
			flow: contract("/login", "/inbox"), password: "from-env"},
		{name: "contract does not rotate", yaml: lines(`session: {rotates: false}`),
			flow: contractWith(func(v *flowView) { v.Rotates = false })},
		{name: "contract with provider_header", yaml: lines(`provider_header: x-regify-backend`),
			flow:     contractWith(func(v *flowView) { v.Backend = "header X-Regify-Backend" }),
			provider: BackendHeader},
		{name: "contract with backend cookie", yaml: lines(`backend: {cookie: SRV}`),
			flow: contractWith(func(v *flowView) { v.Backend = "cookie SRV" })},
		{name: "contract with backend header", yaml: lines(`backend: {header: x-backend}`),
			flow:     contractWith(func(v *flowView) { v.Backend = "header X-Backend" }),
			provider: "X-Backend"},
		{name: "custom: GET form first, no backend, own password", yaml: lines(
			`session:`,
			`  cookie: /^SESS[0-9a-f]+$/`,
			`  password_env: RV_TEST_PW`,
			`  login:`,
			`    - {path: "/login?next=%2F"}`,
			`    - {method: post, path: /login, form: {u: "${user}", p: "${password}"}}`,
			`  probe: {path: /inbox}`,
		), flow: &flowView{
			Cookie: "/^SESS[0-9a-f]+$/", Rotates: true,
			Login: []stepView{
				{Name: "session.login[0]", Method: "GET", Path: "/login?next=%2F"},
				{Name: "session.login[1]", Method: "POST", Path: "/login", Form: kv("u", "${user}", "p", "${password}")},
			},
			Probe:     stepView{Name: "session.probe", Method: "GET", Path: "/inbox", Status: []int{200}},
			LoggedOut: "status [401 403] or redirect to /login",
			Backend:   "nowhere", Identity: "nowhere",
		}, password: "from-env"},
		{name: "custom: POST first, no redirect in logged_out", yaml: lines(
			`session:`,
			`  cookie: SID`,
			`  login: [{method: POST, path: /api/login, form: {u: "${user}", p: "${password}"}}]`,
			`  probe: {path: /api/me, expect: {body: '"user"'}}`,
			`provider_header: X-Regify-Backend`,
		), check: func(v flowView) {
			assert.Equal(t, "status [401 403]", v.LoggedOut)
			assert.Equal(t, "header X-Regify-Backend", v.Backend)
			assert.Nil(t, v.Probe.Status, "an explicit expect is kept as it is")
			assert.Equal(t, `"user"`, v.Probe.Body)
			assert.Nil(t, v.Logout)
			assert.False(t, v.IsContract)
		}, provider: BackendHeader},
		{name: "custom: the login form at / gives no redirect", yaml: lines(
			`session:`,
			`  cookie: SID`,
			`  login: [{path: /}, {method: POST, path: /, form: {u: "${user}"}}]`,
			`  probe: {path: /home}`,
		), check: func(v flowView) { assert.Equal(t, "status [401 403]", v.LoggedOut) }},
		{name: "custom: one account serves all users", yaml: lines(
			`session:`,
			`  cookie: SID`,
			`  accounts: [{user: tester, password_env: RV_TEST_PW}]`,
			`  login: [{method: POST, path: /login, form: {u: "${user}", p: "${password}"}}]`,
			`  probe: {path: /inbox}`,
			`  logged_out: {redirect: /login}`,
		), check: func(v flowView) {
			assert.Equal(t, []load.Account{{User: "tester", Password: "from-env"}}, v.Accounts)
			assert.Equal(t, "redirect to /login", v.LoggedOut)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.yaml, "d.yaml")
			require.NoError(t, err)
			got := viewFlow(d.Session.Flow)
			if tt.flow != nil {
				assert.Equal(t, *tt.flow, got)
			} else {
				tt.check(got)
			}
			provider := tt.provider
			if provider == "" {
				provider = DefaultProviderHeader
			}
			assert.Equal(t, provider, d.ProviderHeader, "ProviderHeader stays populated")
			password := tt.password
			if password == "" {
				password = DefaultPassword
			}
			assert.Equal(t, password, d.Session.Password)
			assert.NoError(t, d.Session.Flow.Validate())
		})
	}
}

// TestParseSessionFlowErrors: every malformed flow is one error naming
// file, line and dotted key, and never a password.
func TestParseSessionFlowErrors(t *testing.T) {
	t.Setenv("RV_TEST_PW", "topsecret-env")
	const cookie = `  cookie: SID`
	const probe = `  probe: {path: /inbox}`
	tests := []struct {
		name string
		yaml []byte
		want string // the error starts with it
	}{
		{name: "unknown step key", yaml: lines(`session:`, cookie, `  login:`, `    - {methd: POST, path: /login}`, probe),
			want: `d.yaml:10: session.login[0].methd: unknown key; did you mean "method"? (known keys here: method, path, form, header, extract, expect, follow)`},
		{name: "regex does not compile", yaml: lines(`session:`, cookie, `  login:`, `    - {path: /login, extract: {token: 'value="([^"]+"'}}`, probe),
			want: "d.yaml:10: session.login[0].extract.token: the regular expression does not compile: missing closing ): `value=\"([^\"]+\"`"},
		{name: "extract regex without group", yaml: lines(`session:`, cookie, `  login:`, `    - {path: /login, extract: {token: 'name="_token"'}}`, probe),
			want: `d.yaml:10: session.login[0].extract.token: "name=\"_token\"" has no capture group`},
		{name: "extract body source without group", yaml: lines(`session:`, cookie, `  login:`, `    - {path: /login, extract: {token: {body: 'x'}}}`, probe),
			want: `d.yaml:10: session.login[0].extract.token.body: "x" has no capture group`},
		{name: "extract with two sources", yaml: lines(`session:`, cookie, `  login:`, `    - {path: /login, extract: {token: {header: X-T, body: 'v=(.*)'}}}`, probe),
			want: `d.yaml:10: session.login[0].extract.token: give exactly one of header, cookie or body, got header and body`},
		{name: "extract into a built-in", yaml: lines(`session:`, cookie, `  login:`, `    - {path: /login, extract: {user: 'u=(.*)'}}`, probe),
			want: `d.yaml:10: session.login[0].extract.user: ${user} is built in`},
		{name: "var never extracted", yaml: lines(`session:`, cookie, `  login:`,
			`    - {path: /login, extract: {token: 'value="([^"]+)"'}}`,
			`    - method: POST`,
			`      path: /login`,
			`      form: {user: "${user}", _token: "${tokn}"}`, probe),
			want: `d.yaml:13: session.login[1].form._token: ${tokn} is never extracted by an earlier login step (defined here: user, password, token)`},
		{name: "var used by the step that extracts it", yaml: lines(`session:`, cookie, `  login:`,
			`    - {path: "/login?t=${token}", extract: {token: 'value="([^"]+)"'}}`, probe),
			want: `d.yaml:10: session.login[0].path: ${token} is never extracted by an earlier login step (defined here: user, password)`},
		{name: "var in a header", yaml: lines(`session:`, cookie, `  login:`,
			`    - path: /login`,
			`      header:`,
			`        X-Csrf: "${csrf}"`, probe),
			want: `d.yaml:12: session.login[0].header.X-Csrf: ${csrf} is never extracted by an earlier login step (defined here: user, password)`},
		{name: "probe var never extracted", yaml: lines(`session:`, cookie, `  login: [{path: /login}]`, `  probe: {path: "/inbox?s=${sid}"}`),
			want: `d.yaml:10: session.probe.path: ${sid} is never extracted by a login step (defined here: user, password)`},
		{name: "malformed var", yaml: lines(`session:`, cookie, `  login: [{path: /login, form: {a: "${1x}"}}]`, probe),
			want: `d.yaml:9: session.login[0].form.a: a malformed ${…}`},
		{name: "password in a path", yaml: lines(`session:`, cookie, `  login: [{path: "/login?p=${password}"}]`, probe),
			want: `d.yaml:9: session.login[0].path: ${password} in a path would show the password in reports`},
		{name: "probe extracts nothing", yaml: lines(`session:`, cookie, `  login: [{path: /login}]`, `  probe: {path: /inbox, extract: {a: 'a(.)'}}`),
			want: `d.yaml:10: session.probe.extract: only login steps extract variables`},
		{name: "empty steps", yaml: lines(`session:`, cookie, `  login: []`, probe),
			want: `d.yaml:9: session.login: the list is empty; give the login's steps in order`},
		{name: "step without path", yaml: lines(`session:`, cookie, `  login:`, `    - {method: POST}`, probe),
			want: `d.yaml:10: session.login[0].path: required key missing`},
		{name: "path not absolute", yaml: lines(`session:`, cookie, `  login: [{path: login}]`, probe),
			want: `d.yaml:9: session.login[0].path: "login": want a path starting with /`},
		{name: "method not a token", yaml: lines(`session:`, cookie, `  login: [{method: "GE T", path: /login}]`, probe),
			want: `d.yaml:9: session.login[0].method: "GE T" is not an HTTP method`},
		{name: "status out of range", yaml: lines(`session:`, cookie, `  login: [{path: /login, expect: {status: [200, 42]}}]`, probe),
			want: `d.yaml:9: session.login[0].expect.status[1]: want a whole number from 100 to 599, got 42`},
		{name: "follow not a bool", yaml: lines(`session:`, cookie, `  login: [{path: /login, follow: maybe}]`, probe),
			want: `d.yaml:9: session.login[0].follow: want true or false`},
		{name: "form not a mapping", yaml: lines(`session:`, cookie, `  login: [{path: /login, form: [a, b]}]`, probe),
			want: `d.yaml:9: session.login[0].form: want a mapping of form fields to values, got a list`},
		{name: "both password and password_env", yaml: lines(`session:`, cookie, `  accounts:`,
			`    - {user: a, password: topsecret, password_env: RV_TEST_PW}`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:10: session.accounts[0].password_env: give password or password_env, not both`},
		{name: "account password_env unset", yaml: lines(`session:`, cookie, `  accounts:`,
			`    - {user: a, password_env: REGIFY_VERIFY_SURELY_UNSET}`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:10: session.accounts[0].password_env: the environment variable REGIFY_VERIFY_SURELY_UNSET is not set`},
		{name: "account without password", yaml: lines(`session:`, cookie, `  accounts: [{user: a}]`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:9: session.accounts[0]: give the account's password`},
		{name: "account password not text", yaml: lines(`session:`, cookie, `  accounts: [{user: a, password: [topsecret]}]`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:9: session.accounts[0].password: want a text value (not shown here)`},
		{name: "session password beside accounts", yaml: lines(`session:`, cookie, `  password: topsecret`, `  accounts: [{user: a, password: topsecret}]`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:9: session.password: with accounts: each account carries its own password`},
		{name: "no accounts listed", yaml: lines(`session:`, cookie, `  accounts: []`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:9: session.accounts: the list is empty`},
		{name: "login with login_path", yaml: lines(`session:`, `  login_path: /signin`, cookie, `  login: [{method: POST, path: /signin}]`, probe),
			want: `d.yaml:8: session.login_path: login_path is the regify contract's shortcut; with login: steps give the login as those steps`},
		{name: "login with probe_path", yaml: lines(`session:`, cookie, `  probe_path: /home`, `  login: [{method: POST, path: /login}]`),
			want: `d.yaml:9: session.probe_path: probe_path is the regify contract's shortcut; with login: steps give the probe as probe: {method: GET, path: /home}`},
		{name: "probe missing", yaml: lines(`session:`, cookie, `  login: [{path: /login}]`),
			want: `d.yaml:7: session.probe: required key missing; the request that needs the session`},
		{name: "cookie missing", yaml: lines(`session:`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:7: session.cookie: required key missing; the session cookie's name`},
		{name: "cookie not a token", yaml: lines(`session:`, `  cookie: "my session"`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:8: session.cookie: "my session" is not a cookie name`},
		{name: "cookie pattern open", yaml: lines(`session:`, `  cookie: /SESS`, `  login: [{path: /login}]`, probe),
			want: `d.yaml:8: session.cookie: "/SESS": a pattern goes between slashes`},
		{name: "cookie pattern does not compile", yaml: lines(`session:`, `  cookie: /SESS(/`, `  login: [{path: /login}]`, probe),
			want: "d.yaml:8: session.cookie: the regular expression does not compile: missing closing ): `SESS(`"},
		{name: "cookie without login", yaml: lines(`session: {cookie: SID}`),
			want: `d.yaml:7: session.cookie: belongs to a custom login flow: give its steps as session.login too`},
		{name: "writes with a custom flow", yaml: lines(`session:`, cookie, `  login: [{path: /login}]`, probe, `  writes: true`),
			want: `d.yaml:11: session.writes: true needs the regify provider contract`},
		{name: "rotates not a bool", yaml: lines(`session:`, `  rotates: sometimes`),
			want: `d.yaml:8: session.rotates: want true or false, got the value "sometimes"`},
		{name: "logged_out empty", yaml: lines(`session:`, cookie, `  login: [{path: /login}]`, probe, `  logged_out: {}`),
			want: `d.yaml:11: session.logged_out: give at least one of status, redirect or body`},
		{name: "logged_out body does not compile", yaml: lines(`session:`, cookie, `  login: [{path: /login}]`, probe, `  logged_out: {body: 'a[b'}`),
			want: "d.yaml:11: session.logged_out.body: the regular expression does not compile: missing closing ]: `[b`"},
		{name: "both provider_header and backend", yaml: lines(`provider_header: X-Regify-Backend`, `backend: {header: X-Backend}`),
			want: `d.yaml:8: backend: give backend or provider_header, not both`},
		{name: "backend with two sources", yaml: lines(`backend:`, `  header: X-Backend`, `  cookie: SRV`),
			want: `d.yaml:7: backend: give exactly one of header, cookie or body, got header and cookie`},
		{name: "backend with no source", yaml: lines(`backend: {}`),
			want: `d.yaml:7: backend: give exactly one of header, cookie or body, got none`},
		{name: "backend as text", yaml: lines(`backend: X-Backend`),
			want: `d.yaml:7: backend: want a mapping with one of the keys header, cookie, body, got the value "X-Backend"`},
		{name: "backend body without group", yaml: lines(`backend: {body: 'served-by: \w+'}`),
			want: `d.yaml:7: backend.body: "served-by: \\w+" has no capture group`},
		{name: "backend unknown key", yaml: lines(`backend: {heder: X-Backend}`),
			want: `d.yaml:7: backend.heder: unknown key; did you mean "header"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.yaml, "d.yaml")
			require.Error(t, err)
			assert.Nil(t, d)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "got  %s\nwant %s…", err, tt.want)
			assert.NotContains(t, err.Error(), "topsecret", "a password leaked into the error")
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

// TestParseExampleCustomFlow: the commented custom flow in
// examples/deployment.yaml, uncommented, is a valid session and backend.
func TestParseExampleCustomFlow(t *testing.T) {
	t.Setenv("RV_PASSWORD_1", "one")
	t.Setenv("RV_PASSWORD_2", "two")
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "deployment.yaml"))
	require.NoError(t, err)
	var block []string
	in := false
	for _, l := range strings.Split(string(data), "\n") {
		if l == "# session:" {
			in = true
		}
		if in && !strings.HasPrefix(l, "#") {
			break
		}
		if in && l != "#" {
			block = append(block, strings.TrimPrefix(l, "# "))
		}
	}
	require.NotEmpty(t, block, "the example has a commented custom flow starting with '# session:'")
	d, err := Parse(lines(block...), "example")
	require.NoError(t, err)
	f := d.Session.Flow
	assert.False(t, f.Contract)
	assert.Equal(t, "APPSESSION", f.Cookie.String())
	require.Len(t, f.Login, 2)
	assert.Equal(t, []string{"token <- body /name=\"_token\" value=\"([^\"]+)\"/"}, viewStep(f.Login[0]).Extract)
	assert.Equal(t, []load.Account{{User: "acceptance-1@example.com", Password: "one"}, {User: "acceptance-2@example.com", Password: "two"}}, f.Accounts)
	assert.Equal(t, "header X-Backend", f.Backend.String())
	require.NotNil(t, f.Logout)
}

// TestParseFlowFile: testdata/flow.yaml (a FuzzParse seed) is a valid flow.
func TestParseFlowFile(t *testing.T) {
	d, err := Load(filepath.Join("testdata", "flow.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "/^APPSESS/", d.Session.Flow.Cookie.String())
	assert.True(t, d.Session.Flow.Cookie.Matches("APPSESSION"))
	assert.Len(t, d.Session.Flow.Login, 2)
	assert.Equal(t, "session.login[1]", d.Session.Flow.Login[1].Name)
	assert.Equal(t, "redactText hides ***", redactText(d, "redactText hides hunter2"))
}
