package faults

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/history"
)

// BalancerRestart stops the balancer as a crashed or killed balancer
// process stops: its listeners close and every client connection is cut.
// Recover starts a new one on the same addresses with everything a process
// holds in memory gone: its affinity table, so each client is pinned
// afresh and some move to the other provider. `stickiness` excuses exactly
// one move per client across the restart; a second move is still a move.
type BalancerRestart struct{}

func (f BalancerRestart) Name() string   { return "balancer-restart" }
func (f BalancerRestart) Target() string { return "balancer" }
func (f BalancerRestart) Kind() Kind     { return Kind{Balancer: true} }

func (f BalancerRestart) Inject(ctx context.Context, env Env) error {
	if err := env.StopBalancer(ctx); err != nil {
		return fmt.Errorf("stop the balancer: %w", err)
	}
	return nil
}

func (f BalancerRestart) Recover(ctx context.Context, env Env) error {
	if err := env.StartBalancer(ctx); err != nil {
		return fmt.Errorf("start the balancer: %w", err)
	}
	return nil
}

// Bit: users were refused while the balancer was down (a stop nobody
// noticed did not happen). How many clients the new balancer pinned
// elsewhere is told too; it is not required, since a fresh table may by
// chance pin every client where it was.
func (f BalancerRestart) Bit(h *history.History, rec *history.Fault) (string, bool) {
	type client struct{ ip, tenant string }
	before := map[client]string{}
	after := map[client]string{}
	refused := 0
	for i := range h.Requests {
		r := &h.Requests[i]
		if !userRequest(r) {
			continue
		}
		c := client{r.SourceIP, r.Tenant}
		end := r.Start.Add(r.Latency)
		switch {
		case end.Before(rec.Injected):
			if r.Provider != "" {
				before[c] = r.Provider
			}
		case rec.Recovered.IsZero() || r.Start.Before(rec.Recovered):
			// Begun before the start, or in flight at the stop.
			if r.Err != "" || r.Status == 0 {
				refused++
			}
		default:
			if _, seen := after[c]; !seen && r.Provider != "" {
				after[c] = r.Provider
			}
		}
	}
	moved := 0
	for c, p := range after {
		if q, ok := before[c]; ok && q != p {
			moved++
		}
	}
	if refused == 0 {
		return "no request failed while the balancer was stopped: the stop did not reach any user", false
	}
	return fmt.Sprintf("took effect: %d requests failed while the balancer was stopped; after the restart %d of %d clients were pinned to another provider",
		refused, moved, len(after)), true
}

func init() {
	register(Entry{Name: "balancer-restart", Summary: "stops the balancer as a crash does (connections cut, clients refused); recover starts a fresh one, its affinity table empty", New: func() Fault { return &BalancerRestart{} }})
}
