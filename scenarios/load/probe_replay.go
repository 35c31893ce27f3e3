package load

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/regify-verify/regify-verify/history"
)

// OpReplay marks a request that presents another user's outdated session
// token from another address, as a hijacker with a stolen cookie would.
const OpReplay history.Op = "replay-probe"

// Users of the replay probe.
const (
	ReplayVictim   = "replay-victim"
	ReplayAttacker = "replay-attacker"
)

// ProbeReplay proves that an outdated token is worthless. Per domain a
// victim logs in and makes one request (its token rotates); then an
// attacker from another source address presents the victim's first token.
// A provider that behaves like regify answers 401 (and revokes the
// session). If the attacker gets the victim's session, the record shows a
// response whose session user is not the requesting user: cookie-isolation
// fails. Every exchange is recorded; transport errors go into the records.
func ProbeReplay(ctx context.Context, cfg Config, sink Sink) error {
	if err := checkProbeConfig(&cfg, "replay probe"); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	src := probeSources(&cfg)
	victimIP, attackerIP := src[0], src[len(src)-1]
	for _, d := range cfg.Domains {
		base, err := baseURL(d.HTTPS, "https")
		if err != nil {
			return fmt.Errorf("replay probe of %s: %w", d.Name, err)
		}
		victim := probeClient(&cfg, victimIP)
		login := replayDo(ctx, victim, victimIP, d.Name, ReplayVictim, http.MethodPost, base.JoinPath("login").String(),
			url.Values{"user": {ReplayVictim}, "password": {cfg.Password}}, "", history.OpLogin)
		sink.Add(login)
		stolen := login.TokenReceived
		if stolen == "" {
			victim.CloseIdleConnections()
			continue // no session to steal; the login's record says why
		}
		rotate := replayDo(ctx, victim, victimIP, d.Name, ReplayVictim, http.MethodGet, base.JoinPath("inbox").String(), nil, stolen, history.OpInbox)
		sink.Add(rotate)
		victim.CloseIdleConnections()
		if cfg.ReplayBarrier != nil {
			if err := cfg.ReplayBarrier(ctx); err != nil {
				cfg.Logger.Warn("replay probe: rotation not replicated before the replay", "domain", d.Name, "err", err)
			}
		}

		attacker := probeClient(&cfg, attackerIP)
		sink.Add(replayDo(ctx, attacker, attackerIP, d.Name, ReplayAttacker, http.MethodGet, base.JoinPath("inbox").String(), nil, stolen, OpReplay))
		attacker.CloseIdleConnections()
	}
	return nil
}

// replayDo sends one request with an explicit session token and records it.
func replayDo(ctx context.Context, c *http.Client, source netip.Addr, tenant, user, method, target string, form url.Values, token string, op history.Op) history.Request {
	return probeDo(ctx, c, source, history.Request{User: user, Tenant: tenant, Method: method, URL: target, Op: op, TokenSent: token}, form)
}
