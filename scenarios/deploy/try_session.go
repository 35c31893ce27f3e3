package deploy

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// TrySession runs the deployment's session flow once for one user against
// its first domain and prints every step to w: the request line, the status
// and where it pointed, the cookies set, what was extracted and whether the
// step's expectation was met. Then it probes the session twice more, to
// show whether the cookie rotates and where the backend is named, and logs
// out. ok is true when login and probe work end to end (and the cookie
// rotates, when the flow says it must); err is for what stopped the try
// itself. Nothing is sent but this one user's requests.
func TrySession(ctx context.Context, d *Deployment, w io.Writer, opts Options) (ok bool, err error) {
	if len(d.Clients.SourceIPs) == 0 || len(d.Domains) == 0 {
		return false, fmt.Errorf("try session: the deployment has no client address or no domain")
	}
	opts.Users = 1
	cfg := loadConfig(d, opts)
	cfg.Dial = cfg.Dialer()
	flow := cfg.SessionFlow()
	dom := cfg.Domains[0]
	acct := load.Account{User: "u001", Password: d.Session.Password}
	if len(flow.Accounts) > 0 {
		acct = flow.Accounts[0]
	}
	s, err := load.NewSession(cfg, dom, cfg.SourceIPs[0], "u001", acct)
	if err != nil {
		return false, fmt.Errorf("try session: %w", err)
	}
	defer s.Close()
	secrets := []string{acct.Password, d.Session.Password}
	fmt.Fprintf(w, "session flow against %s as %s from %s (cookie %s, rotates: %t, backend: %s)\n\n",
		dom.HTTPS, acct.User, cfg.SourceIPs[0], flow.Cookie, flow.Rotates, backendName(flow.Backend))

	steps, loggedIn := s.Login(ctx)
	n := 0
	for _, x := range steps {
		n++
		printExchange(w, n, x, secrets)
	}
	if !loggedIn {
		fmt.Fprintf(w, "\nFAILED: the login stopped at %s; fix it in the deployment file's session.login and try again\n", steps[len(steps)-1].Step.Name)
		return false, ctx.Err()
	}
	ok = true
	var tokens []string
	if t := s.Token(); t != "" {
		tokens = append(tokens, t)
	} else {
		fmt.Fprintf(w, "   ! after the login no cookie matching %s is held: is session.cookie right?\n", flow.Cookie)
		ok = false
	}
	backends := map[string]bool{}
	for range 2 {
		n++
		x := s.Do(ctx, &flow.Probe, history.OpInbox, "")
		printExchange(w, n, x, secrets)
		if !x.Met {
			ok = false
			break
		}
		if x.Rec.Provider != "" {
			backends[x.Rec.Provider] = true
		}
		tokens = append(tokens, x.Rec.TokenReceived)
	}
	fmt.Fprintln(w)
	ok = verdictLines(w, flow, tokens, backends, ok)
	if flow.Logout != nil {
		n++
		printExchange(w, n, s.Do(ctx, flow.Logout, history.OpLogout, ""), secrets)
	}
	if ok {
		fmt.Fprintln(w, "\nOK: the flow works end to end")
	} else {
		fmt.Fprintln(w, "\nFAILED: see the marked lines above")
	}
	return ok, ctx.Err()
}

// verdictLines prints what the probes showed about rotation and backend
// identity; it returns ok, cleared when rotation was required and missing.
func verdictLines(w io.Writer, flow *load.Flow, tokens []string, backends map[string]bool, ok bool) bool {
	rotated := len(tokens) >= 3 && tokens[1] != "" && tokens[2] != "" && tokens[0] != tokens[1] && tokens[1] != tokens[2]
	switch {
	case len(tokens) < 3:
	case rotated:
		fmt.Fprintf(w, "rotation: every probe set a new %s: as the guide demands\n", flow.Cookie)
	case flow.Rotates:
		fmt.Fprintf(w, "rotation: ! the probes did not each set a new %s, but session.rotates is true: session-continuity will fail (set rotates: false only if the application really keeps its cookie)\n", flow.Cookie)
		ok = false
	default:
		fmt.Fprintf(w, "rotation: the cookie stays (rotates: false): rotation is not judged\n")
	}
	names := make([]string, 0, len(backends))
	for b := range backends {
		names = append(names, b)
	}
	slices.Sort(names)
	switch {
	case flow.Backend.IsZero():
		fmt.Fprintln(w, "backend: none configured: stickiness will be judged from session continuity alone (see backend: in examples/deployment.yaml)")
	case len(names) == 0:
		fmt.Fprintf(w, "backend: ! no answer carried %s: stickiness will be incomplete; add it on the balancer (README: Pointing it at your regify appliance)\n", flow.Backend)
	default:
		fmt.Fprintf(w, "backend: %s named %s\n", flow.Backend, strings.Join(names, ", "))
	}
	return ok
}

// printExchange prints one step: request line, answer, cookies, extracted
// values and the expectation, with secrets masked and tokens shortened.
func printExchange(w io.Writer, n int, x load.Exchange, secrets []string) {
	r := x.Rec
	fmt.Fprintf(w, "%d. %s  %s %s\n", n, x.Step.Name, r.Method, r.URL)
	for _, k := range slices.Sorted(maps.Keys(x.Form)) {
		v := x.Form.Get(k)
		if slices.Contains(secrets, v) && v != "" {
			v = "***"
		}
		if len(v) > 40 {
			v = shorten(v)
		}
		fmt.Fprintf(w, "     form %s=%s\n", k, v)
	}
	if r.Err != "" {
		fmt.Fprintf(w, "   → no answer: %s\n", r.Err)
	} else {
		line := fmt.Sprintf("   → %d in %s", r.Status, r.Latency.Round(1e6))
		if r.Location != "" {
			line += ", Location " + r.Location
		}
		if r.Provider != "" {
			line += ", backend " + r.Provider
		}
		fmt.Fprintln(w, line)
	}
	for _, c := range x.SetCookie {
		name, val, _ := strings.Cut(c, "=")
		fmt.Fprintf(w, "     set cookie %s=%s\n", name, shorten(val))
	}
	for _, e := range x.Extracted {
		fmt.Fprintf(w, "     extracted %s=%s\n", e.Name, shorten(e.Value))
	}
	if x.Met {
		fmt.Fprintln(w, "     expectation met")
	} else {
		fmt.Fprintf(w, "   ! expectation not met: %s\n", x.Why)
	}
}

// shorten keeps the start of a long value (tokens, CSRF values).
func shorten(v string) string {
	if len(v) > 16 {
		return v[:12] + "…"
	}
	return v
}

func backendName(s load.Source) string {
	if s.IsZero() {
		return "none"
	}
	return s.String()
}
