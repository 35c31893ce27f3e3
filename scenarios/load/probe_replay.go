package load

import (
	"context"
	"fmt"

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
// victim logs in (the session flow's login) and probes its session once,
// which rotates its token; then an attacker from another source address
// presents the victim's first token on the probe, once and read-only. An
// application that behaves like regify refuses it (and may revoke the
// victim's session: the expected outcome). If the attacker gets the
// victim's session, the record shows a response whose session user is not
// the requesting user: cookie-isolation fails. Every exchange is recorded;
// transport errors go into the records.
func ProbeReplay(ctx context.Context, cfg Config, sink Sink) error {
	if err := checkProbeConfig(&cfg, "replay probe"); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	src := probeSources(&cfg)
	victimIP, attackerIP := src[0], src[len(src)-1]
	acct := cfg.Flow.account(0, cfg.Password)
	if cfg.Flow.Contract && len(cfg.Flow.Accounts) == 0 {
		acct.User = ReplayVictim // the contract's provider takes any user
	}
	for _, d := range cfg.Domains {
		victim, err := NewSession(cfg, d, victimIP, ReplayVictim, acct)
		if err != nil {
			return fmt.Errorf("replay probe of %s: %w", d.Name, err)
		}
		steps, ok := victim.Login(ctx)
		for _, x := range steps {
			sink.Add(x.Rec)
		}
		stolen := victim.Token()
		if !ok || stolen == "" {
			victim.Close()
			continue // no session to steal; the login's records say why
		}
		sink.Add(victim.Do(ctx, &cfg.Flow.Probe, history.OpInbox, "").Rec)
		victim.Close()
		if cfg.ReplayBarrier != nil {
			if err := cfg.ReplayBarrier(ctx); err != nil {
				cfg.Logger.Warn("replay probe: rotation not replicated before the replay", "domain", d.Name, "err", err)
			}
		}

		attacker, err := NewSession(cfg, d, attackerIP, ReplayAttacker, Account{})
		if err != nil {
			return fmt.Errorf("replay probe of %s: %w", d.Name, err)
		}
		x := attacker.Do(ctx, &cfg.Flow.Probe, OpReplay, stolen)
		if x.Rec.SessionUser == "" && cfg.Flow.Identity.IsZero() && x.Met {
			// Answered as the victim's session would be: it is the victim's.
			x.Rec.SessionUser = ReplayVictim
		}
		sink.Add(x.Rec)
		attacker.Close()
	}
	return nil
}
