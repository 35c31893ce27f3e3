package scenarios

import (
	"context"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// Negative controls: deliberately broken setups. Each must make the named
// invariants fail; a checker that passes them proves nothing. One function
// per broken mode, all in this file because each is three lines of data.

// negative builds a negative control that breaks the lab with brk and
// expects the invariants in expect to fail.
func negative(name, desc string, brk func(o *harness.Options), expect ...string) Scenario {
	return Scenario{
		Name: name, Description: desc, Lab: brk, Negative: true, ExpectFail: expect,
		Duration: 4 * time.Second,
	}
}

// NegRoundRobin: a balancer without persistence.
func NegRoundRobin() Scenario {
	return negative("neg-round-robin", "Broken on purpose: the balancer rotates requests round robin instead of pinning source IPs.",
		func(o *harness.Options) { o.Balancer.RoundRobin = true }, check.NameStickiness)
}

// NegCookiePersistence: persistence by the application's session cookie,
// which regify rotates on every response (the seed's footnote).
func NegCookiePersistence() Scenario {
	return negative("neg-cookie-persistence", "Broken on purpose: the balancer persists sessions by a hash of the regify session cookie, which changes on every response.",
		func(o *harness.Options) { o.Balancer.CookieHash = "regify_session" }, check.NameStickiness)
}

// NegNoRedirect: the http listener serves content.
func NegNoRedirect() Scenario {
	return negative("neg-no-redirect", "Broken on purpose: the http listener serves content instead of redirecting to https.",
		func(o *harness.Options) { o.Balancer.NoRedirect = true }, check.NameRedirect)
}

// NegRedirectDropsQuery: the redirect loses the query string.
func NegRedirectDropsQuery() Scenario {
	return negative("neg-redirect-drops-query", "Broken on purpose: the redirect to https drops the query string.",
		func(o *harness.Options) { o.Balancer.RedirectDropQuery = true }, check.NameRedirect)
}

// NegRedirectWrongHost: the redirect goes to another name.
func NegRedirectWrongHost() Scenario {
	return negative("neg-redirect-wrong-host", "Broken on purpose: the redirect sends every name to abc.test.",
		func(o *harness.Options) { o.Balancer.RedirectHost = "abc.test" }, check.NameRedirect)
}

// NegNoForwardedProto: providers cannot tell the request came over https.
func NegNoForwardedProto() Scenario {
	return negative("neg-no-forwarded-proto", "Broken on purpose: the balancer sends no X-Forwarded-Proto to the providers.",
		func(o *harness.Options) { o.Balancer.NoForwardedProto = true }, check.NameForwardedHeaders)
}

// NegWrongCertificate: a name gets another name's certificate.
func NegWrongCertificate() Scenario {
	return negative("neg-wrong-certificate", "Broken on purpose: the balancer serves the certificate of another name.",
		func(o *harness.Options) { o.Balancer.WrongCertificate = true }, check.NameTLS)
}

// NegNoHealthChecks: a crashed provider keeps its clients.
func NegNoHealthChecks() Scenario {
	s := negative("neg-no-health-checks", "Broken on purpose: no health checks; provider 1 crashes and its clients keep being sent to it.",
		func(o *harness.Options) { o.Balancer.NoHealthChecks = true }, check.NameFailover)
	s.Duration = 6 * time.Second
	s.Faults = []Step{{At: 1500 * time.Millisecond, For: 3 * time.Second,
		Make: func(l faults.Lab) faults.Fault { return faults.ProviderCrash{Lab: l, Provider: "p1"} }}}
	return s
}

// NegNonRotatingCookie: the provider keeps one token per session.
func NegNonRotatingCookie() Scenario {
	return negative("neg-non-rotating-cookie", "Broken on purpose: the provider does not rotate its session cookie on every response.",
		func(o *harness.Options) { o.Provider.NoRotate = true }, check.NameSessionContinuity)
}

// NegOldTokensValid: the provider accepts outdated tokens (hijackable).
func NegOldTokensValid() Scenario {
	return negative("neg-old-tokens-valid", "Broken on purpose: the provider accepts outdated session tokens, so a stolen cookie stays usable.",
		func(o *harness.Options) { o.Provider.OldTokensValid = true }, check.NameCookieIsolation)
}

// NegSingleClearing: no redundant clearing connection, and sends are
// acknowledged although their clearing failed.
func NegSingleClearing() Scenario {
	s := negative("neg-single-clearing", "Broken on purpose: providers use only clearing connection 1 and acknowledge messages whose clearing failed; connection 1 is cut.",
		func(o *harness.Options) { o.Provider.SingleClearing = true }, check.NameClearing)
	s.Duration = 5 * time.Second
	s.Faults = []Step{{At: 1500 * time.Millisecond, For: 2 * time.Second,
		Make: func(l faults.Lab) faults.Fault { return faults.ClearingCut{Lab: l, Clearing: 0} }}}
	return s
}

// NegStoppedReplication: master B never applies master A's writes.
func NegStoppedReplication() Scenario {
	s := negative("neg-stopped-replication", "Broken on purpose: replication into master B is stopped for the whole run.",
		nil, check.NameReplicationHealth, check.NameNoLostWrites)
	s.NeedsDatabase = true
	s.ConvergeBound = 3 * time.Second
	s.Faults = []Step{{At: 0, For: time.Hour, // recovered only when the run ends
		Make: func(l faults.Lab) faults.Fault { return permanent{faults.ReplicationStop{Lab: l, Side: "b"}} }}}
	return s
}

// NegReplicationLag: master B is always 3 s behind.
func NegReplicationLag() Scenario {
	s := negative("neg-replication-lag", "Broken on purpose: master B applies master A's writes 3 s late for the whole run.",
		nil, check.NameReplicationLag)
	s.NeedsDatabase = true
	s.Duration = 6 * time.Second
	s.ConvergeBound = 5 * time.Second
	s.Faults = []Step{{At: 0, For: time.Hour, Make: func(l faults.Lab) faults.Fault {
		return permanent{faults.ReplicationDelay{Lab: l, Side: "b", Delay: 3 * time.Second}}
	}}}
	return s
}

// NegEqualAutoIncrement: both masters hand out the same ids.
func NegEqualAutoIncrement() Scenario {
	s := negative("neg-equal-auto-increment", "Broken on purpose: both masters use the same auto-increment offset, so ids collide.",
		func(o *harness.Options) { o.DB.EqualAutoIncrement = true }, check.NameAutoIncrement)
	s.NeedsDatabase = true
	s.ConvergeBound = 3 * time.Second // colliding ids stop replication: it never converges
	return s
}

// NegSessionLossRoundRobin: without persistence and with replication a
// second behind, a user's newest token is often not yet on the provider
// that gets the next request: sessions are lost, as the seed warns.
func NegSessionLossRoundRobin() Scenario {
	s := negative("neg-session-loss-round-robin", "Broken on purpose: round robin with master-master replication 1 s behind; users' newest tokens have not replicated when their next request lands on the other provider.",
		func(o *harness.Options) { o.Balancer.RoundRobin = true }, check.NameSessionContinuity, check.NameStickiness)
	s.NeedsDatabase = true
	// Sessions rotated on both masters a second apart leave them
	// disagreeing about the newest token (measured: the checksums differ
	// with both replica threads running), so waiting the full default
	// bound for convergence judges nothing more.
	s.ConvergeBound = 3 * time.Second
	s.Faults = []Step{
		{At: 0, For: time.Hour, Make: func(l faults.Lab) faults.Fault {
			return permanent{faults.ReplicationDelay{Lab: l, Side: "a", Delay: time.Second}}
		}},
		{At: 0, For: time.Hour, Make: func(l faults.Lab) faults.Fault {
			return permanent{faults.ReplicationDelay{Lab: l, Side: "b", Delay: time.Second}}
		}},
	}
	return s
}

// permanent is a broken setting that lasts the whole run: its kind excuses
// nothing, and it is never recovered, so the final state still shows it
// (the lab is thrown away afterwards).
type permanent struct{ faults.Fault }

func (p permanent) Kind() faults.Kind { return faults.Kind{} }

// Recover leaves the breakage in place for the final state to show.
func (p permanent) Recover(ctx context.Context) error { return nil }
