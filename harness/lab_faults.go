package harness

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/harness/links"
	"github.com/regify-verify/regify-verify/lb"
)

// The methods below are the handles faults use (scenarios/faults.Lab).

func (l *Lab) provider(id string) (*fakeprovider.Provider, error) {
	p, ok := l.providers[id]
	if !ok {
		if l.nodes != nil {
			if _, err := l.nodes.provider(id); err == nil {
				return nil, fmt.Errorf("provider %s runs as a container", id)
			}
		}
		if _, proc := l.procs[id]; proc {
			return nil, fmt.Errorf("provider %s runs as a process", id)
		}
		return nil, fmt.Errorf("no provider %q in the lab (have %v)", id, l.opts.Plan.ProviderIDs())
	}
	return p, nil
}

// CrashProvider closes a provider's listeners and live connections at
// once; a provider process is sent SIGKILL.
func (l *Lab) CrashProvider(ctx context.Context, id string) error {
	if proc, ok := l.procs[id]; ok {
		return proc.kill()
	}
	if l.nodes != nil {
		return l.crashProviderContainer(ctx, id)
	}
	p, err := l.provider(id)
	if err != nil {
		return err
	}
	p.Kill()
	return nil
}

// RestartProvider starts a crashed provider on its old addresses (a new
// process, for a provider process).
func (l *Lab) RestartProvider(ctx context.Context, id string) error {
	if proc, ok := l.procs[id]; ok {
		return proc.start(ctx)
	}
	if l.nodes != nil {
		return l.restartProviderContainer(ctx, id)
	}
	p, err := l.provider(id)
	if err != nil {
		return err
	}
	return p.Start(ctx)
}

// HangProvider makes a provider accept requests and never answer (on) or
// answer again (off). A provider process cannot be told to; PauseProvider
// freezes it instead.
func (l *Lab) HangProvider(ctx context.Context, id string, on bool) error {
	if _, ok := l.procs[id]; ok || l.nodes != nil {
		return fmt.Errorf("provider %s runs as a process and has no hang switch: use provider-pause (SIGSTOP, or a frozen container) on it", id)
	}
	p, err := l.provider(id)
	if err != nil {
		return err
	}
	p.SetHang(on)
	return nil
}

// PauseProvider freezes a provider process (SIGSTOP) or thaws it
// (SIGCONT). In-process providers cannot be frozen apart from the lab.
func (l *Lab) PauseProvider(ctx context.Context, id string, on bool) error {
	if l.nodes != nil {
		n, err := l.nodes.provider(id)
		if err != nil {
			return err
		}
		return n.pause(ctx, on)
	}
	proc, ok := l.procs[id]
	if !ok {
		if _, err := l.provider(id); err != nil {
			return err
		}
		return fmt.Errorf("provider %s runs inside this process and cannot be frozen alone: it needs a lab whose providers are processes (the catalogue's provider-pause, or --fault provider-pause, which brings one up)", id)
	}
	return proc.pause(on)
}

// ProviderPID is the process id of a provider process, 0 for an
// in-process provider or one not running.
func (l *Lab) ProviderPID(id string) int {
	if proc, ok := l.procs[id]; ok {
		return proc.pid()
	}
	return 0
}

// BalancerLinks are the wires from the balancer to one provider.
func (l *Lab) BalancerLinks(providerID string) []string {
	var out []string
	for _, d := range l.opts.Plan.Domains {
		out = append(out, balancerLink(providerID, d.Name))
	}
	return out
}

// DatabaseLink is the wire from a provider to its database.
func (l *Lab) DatabaseLink(providerID string) string { return databaseLink(providerID) }

// ClearingLinks are the wires from every provider to one clearing service.
func (l *Lab) ClearingLinks(clearing int) []string {
	var out []string
	for _, p := range l.opts.Plan.Providers {
		out = append(out, clearingLink(p.ID, clearing))
	}
	return out
}

// CutLink cuts a wire; RestoreLink mends it.
func (l *Lab) CutLink(name string) error     { return l.links.Cut(name) }
func (l *Lab) RestoreLink(name string) error { return l.links.Restore(name) }

// AddToxic and RemoveToxic degrade a wire.
func (l *Lab) AddToxic(link string, t links.Toxic) error { return l.links.AddToxic(link, t) }
func (l *Lab) RemoveToxic(ctx context.Context, link, toxic string) error {
	return l.links.RemoveToxic(ctx, link, toxic)
}

// LinkStates says, for every wire of the lab, whether it is cut and which
// toxics it carries: what a test reads to see that every fault was mended.
func (l *Lab) LinkStates() []links.State { return l.links.States() }

// lb is the balancer running now (or the stopped one, until a restart).
func (l *Lab) lb() *lb.Balancer {
	l.lbMu.Lock()
	defer l.lbMu.Unlock()
	return l.balancer
}

// StopBalancer stops the balancer at once, as a killed balancer process
// goes: its listeners close and every client connection is cut, requests
// in flight included. Clients are refused until StartBalancer.
func (l *Lab) StopBalancer(ctx context.Context) error {
	l.lbMu.Lock()
	defer l.lbMu.Unlock()
	if l.lbStopped {
		return nil
	}
	if l.nodes != nil {
		if err := l.nodes.balancer.kill(ctx); err != nil {
			return err
		}
		l.lbStopped = true
		return nil
	}
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cancel() // no draining: a crash, not a reload
	_ = l.balancer.Shutdown(hard)
	l.lbStopped = true
	return nil
}

// StartBalancer starts a new balancer on the stopped one's addresses and
// configuration, with everything a process keeps in memory lost: the
// affinity table (each client is pinned afresh, so some move) and the
// health state (every backend up until checked).
func (l *Lab) StartBalancer(ctx context.Context) error {
	l.lbMu.Lock()
	defer l.lbMu.Unlock()
	if !l.lbStopped {
		return nil
	}
	if l.nodes != nil {
		return l.restartBalancerContainer(ctx)
	}
	b, err := lb.New(l.lbCfg, l.log.With("component", "lb"))
	if err != nil {
		return fmt.Errorf("configure the restarted balancer: %w", err)
	}
	if err := b.Start(ctx); err != nil {
		return fmt.Errorf("start the balancer again: %w", err)
	}
	l.balancer, l.lbStopped = b, false
	return nil
}

// BalancerStopped reports whether the balancer is stopped (a restart not
// finished): what a test reads to see that it was started again.
func (l *Lab) BalancerStopped() bool {
	l.lbMu.Lock()
	defer l.lbMu.Unlock()
	return l.lbStopped
}

// crashProviderContainer cuts the balancer's wires to a provider
// container and kills its process. A killed container does not refuse: packets
// to its address go unanswered, while the wire has already accepted the
// balancer's connection. Uncut, the wire held such a request until the
// restarted provider answered on the address again and then delivered it,
// seconds after its client had given up (seen: an outdated token
// delivered late revoked a session its user still held elsewhere). A dead
// provider's wires are cut, as the in-process crash closes its listeners
// and live connections; restartProviderContainer mends them.
func (l *Lab) crashProviderContainer(ctx context.Context, id string) error {
	n, err := l.nodes.provider(id)
	if err != nil {
		return err
	}
	// The wires first: a request reaching one between the kill and its
	// cut would wait on a dial to the dead address (about 3 s here).
	for _, name := range l.BalancerLinks(id) {
		cut, err := l.links.IsCut(name)
		if err != nil {
			return err
		}
		if cut {
			continue // a link fault's: it mends it
		}
		if err := l.links.Cut(name); err != nil {
			return err
		}
		l.nodes.cutByCrash[name] = true
	}
	return n.kill(ctx)
}

// restartProviderContainer starts a killed provider container again and
// points the balancer's wires at its address, which may have changed.
func (l *Lab) restartProviderContainer(ctx context.Context, id string) error {
	n, err := l.nodes.provider(id)
	if err != nil {
		return err
	}
	if err := n.start(ctx); err != nil {
		return err
	}
	l.noteProviderAddr(id, n.addr())
	for d, addr := range l.Internal()[id] {
		name := balancerLink(id, d)
		if err := l.links.Retarget(name, addr); err != nil {
			return fmt.Errorf("follow restarted provider %s: %w", id, err)
		}
		if l.nodes.cutByCrash[name] {
			if err := l.links.Restore(name); err != nil {
				return err
			}
			delete(l.nodes.cutByCrash, name)
		}
	}
	return nil
}

// restartBalancerContainer starts the killed balancer container again
// (lbMu held). Clients reach it by its address: one that changed cannot
// be followed, and says so.
func (l *Lab) restartBalancerContainer(ctx context.Context) error {
	n := l.nodes.balancer
	before := n.addr()
	if err := n.start(ctx); err != nil {
		return err
	}
	l.lbStopped = false
	if after := n.addr(); after != before {
		return fmt.Errorf("the balancer container came back on %s, not %s: its clients cannot follow (another container took the address meanwhile)", after, before)
	}
	return nil
}
