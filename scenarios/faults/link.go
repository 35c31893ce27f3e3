package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/harness/links"
	"github.com/regify-verify/regify-verify/history"
)

// The link classes of the link faults (their link knob): the wires of the
// lab, each an in-process toxiproxy link, plus the masters' replication.
const (
	// LinkBalancer: the balancer's wires to one provider (one per domain).
	LinkBalancer = "balancer"
	// LinkDatabase: one provider's wire to its master.
	LinkDatabase = "database"
	// LinkClearing: every provider's wire to one clearing connection.
	LinkClearing = "clearing"
	// LinkReplication: the masters' replication stream. It is no proxied
	// wire (the docker backend replicates over an internal docker network,
	// the process backend over links of its own that faults cannot reach),
	// so the link faults that have a database equivalent use it: cut is
	// replication-cut, one way stops the receiving replica, latency is
	// MASTER_DELAY; reset, bandwidth and slicing are refused.
	LinkReplication = "replication"
)

// Directions of a link fault (its direction knob). Request is what the
// side that connects sends (the balancer to a provider, a provider to its
// database or the clearing service: toxiproxy's upstream), response what
// comes back (downstream).
const (
	dirRequest  = "request"
	dirResponse = "response"
	dirBoth     = "both"
	// The replication stream's directions, named by the master written on.
	dirAToB = "a-to-b"
	dirBToA = "b-to-a"
)

// errNoReplicationWire refuses a toxic on the replication stream.
var errNoReplicationWire = errors.New("link=replication is no proxied wire (the masters replicate over their own network), so only link-cut (replication-cut), link-oneway (stops the receiving replica) and link-latency (MASTER_DELAY) act on it; use those, or replication-cut, replication-stop, replication-delay")

// wires is the selection every link fault shares: its link, provider and
// clearing knobs. Provider applies to the balancer and database links,
// Clearing (0 for the first connection) to the clearing links.
type wires struct {
	Link     string
	Provider string
	Clearing int
}

// class is the link class; empty is the balancer, as before the link knob.
func (w wires) class() string {
	if w.Link == "" {
		return LinkBalancer
	}
	return w.Link
}

func (w wires) validate() error {
	switch w.class() {
	case LinkBalancer, LinkDatabase:
		if w.Provider == "" {
			return fmt.Errorf("link=%s needs a provider (e.g. provider=p1)", w.class())
		}
	case LinkClearing:
		if w.Clearing < 0 {
			return fmt.Errorf("clearing=%d: want the clearing connection's index from 0", w.Clearing)
		}
	case LinkReplication:
	default:
		return fmt.Errorf("link %q: want %s, %s, %s or %s", w.Link, LinkBalancer, LinkDatabase, LinkClearing, LinkReplication)
	}
	return nil
}

// target names what the fault hits, as the older faults do: lb-p1, p1-db,
// clearing-connection-1, replication.
func (w wires) target() string {
	switch w.class() {
	case LinkDatabase:
		return w.Provider + "-db"
	case LinkClearing:
		return fmt.Sprintf("clearing-connection-%d", w.Clearing+1)
	case LinkReplication:
		return "replication"
	}
	return "lb-" + w.Provider
}

// kind is the blast radius of a fault on these wires. A fault that breaks
// or throttles them (breaks: cut, one way, reset, bandwidth, slicing):
//
//   - balancer: the provider is out of reach, so it is a Provider fault of
//     it (re-pins, failed and stalled requests of its clients are excused
//     in the window: stickiness, session-continuity, responsiveness; the
//     failover invariant judges how fast its clients moved).
//   - database: the provider cannot answer without its master and must
//     report itself unhealthy, so it is a Provider fault of it too. It is
//     no Database fault: the masters and their replication are untouched
//     (the harness's heartbeat and observer bypass the wire), so
//     replication lag is not excused.
//   - clearing: nothing is excused — the redundant clearing connection
//     must hide it (clearing: every acknowledged message cleared once).
//   - replication: a Database fault (replication lag inside the window);
//     no provider is taken out.
//
// A latency alone (breaks false) excuses nothing on the wires: slow is not
// down, as provider-slow; on replication it is still a Database fault.
func (w wires) kind(breaks bool) Kind {
	switch w.class() {
	case LinkBalancer, LinkDatabase:
		if !breaks {
			return Kind{}
		}
		return Kind{Provider: true, Affects: w.Provider}
	case LinkReplication:
		return Kind{Database: true}
	}
	return Kind{}
}

// needsDatabase: the database and replication links exist only with the
// MariaDB pair.
func (w wires) needsDatabase() bool {
	return w.class() == LinkDatabase || w.class() == LinkReplication
}

// names are the link names of the wires in env.
func (w wires) names(env Env) ([]string, error) {
	var out []string
	switch w.class() {
	case LinkBalancer:
		out = env.BalancerLinks(w.Provider)
	case LinkDatabase:
		// Without the pair the provider has no wire to a database: say so
		// rather than "no link named".
		if _, err := env.Database(); err != nil {
			return nil, fmt.Errorf("the wire from %s to its database: %w", w.Provider, err)
		}
		if n := env.DatabaseLink(w.Provider); n != "" {
			out = []string{n}
		}
	case LinkClearing:
		out = env.ClearingLinks(w.Clearing)
	case LinkReplication:
		return nil, errNoReplicationWire
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the environment has no %s wires for %s", w.class(), w.target())
	}
	return out, nil
}

// streams maps a direction knob to toxiproxy's streams.
func streams(direction string) ([]string, error) {
	switch direction {
	case dirRequest:
		return []string{"upstream"}, nil
	case dirResponse:
		return []string{"downstream"}, nil
	case dirBoth:
		return []string{"upstream", "downstream"}, nil
	}
	return nil, fmt.Errorf("direction %q: want %s, %s or %s", direction, dirRequest, dirResponse, dirBoth)
}

// toxicName is the name of a link fault's toxic on one stream: the fault's
// name, with the direction when it acts on both.
func toxicName(base, stream string, both bool) string {
	if !both {
		return base
	}
	if stream == "upstream" {
		return base + "-" + dirRequest
	}
	return base + "-" + dirResponse
}

// addToxics puts a toxic of type typ on every stream of direction of the
// wires; it goes on after an error (a partial inject is recovered).
func addToxics(env Env, w wires, base, direction, typ string, attrs map[string]any) error {
	return eachStream(env, w, direction, func(l, s string, both bool) error {
		return env.AddToxic(l, links.Toxic{Name: toxicName(base, s, both), Type: typ, Stream: s, Attributes: attrs})
	})
}

// removeToxics takes off what addToxics put on; a toxic that is not there
// (a partial inject) is no error.
func removeToxics(ctx context.Context, env Env, w wires, base, direction string) error {
	return eachStream(env, w, direction, func(l, s string, both bool) error {
		if err := env.RemoveToxic(ctx, l, toxicName(base, s, both)); !errors.Is(err, links.ErrNoToxic) {
			return err
		}
		return nil
	})
}

// eachStream calls fn for every stream of direction on every wire (both
// is set when the direction has two streams), going on after an error and
// returning the first of each wire's.
func eachStream(env Env, w wires, direction string, fn func(link, stream string, both bool) error) error {
	names, err := w.names(env)
	if err != nil {
		return err
	}
	ss, err := streams(direction)
	if err != nil {
		return err
	}
	return eachLink(names, func(l string) error {
		var first error
		for _, s := range ss {
			if err := fn(l, s, len(ss) > 1); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}

// breakBit is the effect of a fault that breaks the wires: on a provider's
// wires its clients were disrupted or moved; on replication the lag grew
// or a replica thread stopped; on a clearing connection clearBit decides.
func (w wires) breakBit(h *history.History, rec *history.Fault, clearBit func() (string, bool)) (string, bool) {
	switch w.class() {
	case LinkBalancer, LinkDatabase:
		return providerBit(h, rec, w.Provider)
	case LinkReplication:
		return lagBit(h, rec, lagBound)
	}
	return clearBit()
}

// slowedBit is the effect of a fault that slows the wires by at least min
// at the median: the requests answered by the provider (balancer and
// database wires) or the sends (clearing: only a send clears) inside the
// window against those before it. With orMoved (a throttled provider may
// be taken out by the balancer) a provider whose clients were disrupted or
// moved shows it too.
func (w wires) slowedBit(h *history.History, rec *history.Fault, min time.Duration, orMoved bool) (string, bool) {
	switch w.class() {
	case LinkBalancer, LinkDatabase:
		p := w.Provider
		why, ok := slowBit(h, rec, "requests "+p+" answered", func(r *history.Request) bool { return r.Provider == p }, min)
		if ok || !orMoved {
			return why, ok
		}
		moved, ok := providerBit(h, rec, p)
		if ok {
			return moved, true
		}
		return why + "; " + moved, false
	case LinkClearing:
		return slowBit(h, rec, "sends", func(r *history.Request) bool { return r.Op == history.OpSend }, min)
	}
	return lagBit(h, rec, min)
}

// notVisible is the effect of a fault the history cannot show: said, as
// for a fault that declares none, and not held against the run.
func notVisible(why string) (string, bool) {
	return "not checked: " + why, true
}

// describe joins a fault's knobs for its Target.
func describe(target string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return target
	}
	return target + " (" + strings.Join(kept, ", ") + ")"
}
