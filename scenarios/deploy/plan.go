package deploy

import (
	"fmt"
	"strings"

	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Step is one thing Check would do, for --dry-run.
type Step struct {
	// Phase groups steps: tls, redirect, load, database, fault. The probe
	// phases are named after the invariant they feed (check.NameTLS,
	// check.NameRedirect).
	Phase string
	// What says what the step does, in the seed's words, without secrets.
	What string
	// Destructive steps run only with --allow-faults.
	Destructive bool
}

func (s Step) String() string {
	mark := " "
	if s.Destructive {
		mark = "!"
	}
	return fmt.Sprintf("%s %-8s %s", mark, s.Phase, s.What)
}

// Plan lists what Check does with d, in order, using the file's load
// profile. It touches nothing: no connection, no command.
func Plan(d *Deployment) []Step {
	var out []Step
	add := func(phase, format string, args ...any) {
		out = append(out, Step{Phase: phase, What: fmt.Sprintf(format, args...)})
	}
	ca := "system roots"
	if d.TLS.CAFile != "" {
		ca += " + " + d.TLS.CAFile
	}
	for _, dom := range d.Domains {
		at := "via DNS"
		if dom.Address.IsValid() {
			at = "at public IP " + dom.Address.String()
		}
		add(check.NameTLS, "%s %s: handshake with and without SNI, verify the chain against %s, names, expiry (≥ %d days left), TLS ≥ 1.2, a handshake offering only TLS 1.0/1.1 must be refused, HSTS", dom.HTTPS, at, ca, int(d.TLS.MinValidity.Hours()/24))
	}
	for _, dom := range d.Domains {
		if dom.HTTP == "" {
			add(check.NameRedirect, "%s: no http URL given, the http→https redirect is not probed", dom.Name)
			continue
		}
		add(check.NameRedirect, "%s: GET / and two paths with queries, expect a redirect to the same host, path and query on https, never content", dom.HTTP)
	}
	ips := d.Clients.SourceIPs[:d.Load.Users]
	f := sessionFlow(d)
	if f == nil {
		c := load.ContractFlow(load.Paths{Login: d.Session.LoginPath, Inbox: d.Session.ProbePath})
		f = &c
	}
	add("load", "%d users, each from its own source IP (%s … %s), %d req/s for %s, %s",
		d.Load.Users, ips[0], ips[len(ips)-1], d.Load.Rate, d.Load.Duration, describeFlow(f))
	if f.Rotates {
		add("load", "a probe user logs in once per name, probes its session and replays its replaced cookie once from another address: it must be refused")
	}
	if d.Session.Writes {
		add("load", "session.writes: true — the users also send test messages (about 30%% of requests) and read them back: these messages stay in your system")
	} else {
		add("load", "read-only: the users log in, list the inbox and log out; no message is sent (session.writes: true would send test messages)")
	}
	add("load", "judge stickiness by source IP, spread over the providers, session continuity, cookie isolation, forwarded headers (%s mode)", d.Mode)
	if db := d.Database; db != nil {
		add("database", "connect to master a %s and master b %s", RedactDSN(db.A), RedactDSN(db.B))
		add("database", "read replica status (IO/SQL threads, errors) and auto_increment_increment/offset of both")
		add("database", "create table regify_verify_hb_<run id>, write %d heartbeats on each side, time their arrival on the other (bound %s), drop the table", dbRounds, db.MaxLag)
		if len(db.Tables) > 0 {
			add("database", "CHECKSUM TABLE %s on both sides until equal", strings.Join(db.Tables, ", "))
		}
	} else {
		add("database", "no database section: replication is not checked")
	}
	for _, h := range d.Faults {
		target := "no provider named"
		if h.Provider != "" {
			target = "takes out provider " + h.Provider
		}
		out = append(out, Step{Phase: "fault", Destructive: true, What: fmt.Sprintf(
			"%s (%s), only with --allow-faults: under load inject `%s`, hold %s, recover `%s` (each bounded by %s; recover always runs, also on Ctrl-C; aborted at once when more than %.0f%% of requests fail over %s)",
			h.Name, target, redactText(d, h.Inject), h.Hold, redactText(d, h.Recover), h.Timeout, 100*d.Stop.MaxErrorRate, d.Stop.Window)})
	}
	if len(d.Require) > 0 {
		add("judge", "required (a skipped one makes the run incomplete, exit 2): %s; a request waiting over %s is disrupted; fail-back: %s",
			strings.Join(d.Require, ", "), d.Bounds.MaxStall, d.Bounds.Failback)
	}
	return out
}

// describeFlow says in one line how the users get and keep a session.
func describeFlow(f *load.Flow) string {
	steps := make([]string, len(f.Login))
	for i, st := range f.Login {
		steps[i] = st.Method + " " + st.Path
	}
	who := "each user as itself (test password: ***)"
	if n := len(f.Accounts); n > 0 {
		who = fmt.Sprintf("%d account(s) taken in turn (passwords: ***)", n)
	}
	rot := "the cookie must rotate on every authenticated answer"
	if !f.Rotates {
		rot = "rotation not judged (rotates: false)"
	}
	backend := f.Backend.String() + " names the node"
	if f.Backend.IsZero() {
		backend = "no answer names its node (stickiness judged from sessions alone)"
	}
	return fmt.Sprintf("log in with %s as %s, probe the session with %s %s, session cookie %s, %s; lost session: %s; %s",
		strings.Join(steps, " → "), who, f.Probe.Method, f.Probe.Path, f.Cookie, rot, f.LoggedOut, backend)
}
