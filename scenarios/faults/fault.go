// Package faults is the fault registry: one file per fault, named as the
// fault. A fault is plain data (which provider, side or link, how long a
// latency …) with two verbs: Inject breaks something, Recover mends it.
// Faults act only through the Env they are given, so the same value runs
// in the lab and, where the environment supports it, against a deployment;
// an operator's shell hooks are one more fault (Hook).
package faults

import (
	"context"
	"time"

	"github.com/regify-verify/regify-verify/harness/links"
)

// Fault is one thing that can go wrong in a deployment.
//
// To add a fault:
//
//  1. Create <name>.go in this package (provider_freeze.go for
//     "provider-freeze") with a struct whose knobs are exported fields
//     tagged `fault:"knob"` (string, int, bool, float64 or time.Duration),
//     so it can be built from Go, from YAML and from --fault NAME:knob=value.
//  2. Implement Name (the canonical name), Target (what it hits, for the
//     report), Kind (which provider or side it takes out, so the invariants
//     excuse exactly that), Inject and Recover (through env only; Recover
//     must mend whatever Inject did, also after a partial Inject).
//  3. Register it in the file's init with its summary and a New that
//     returns the defaults; set NeedsDatabase when it acts on the pair.
//  4. Add its case to faults_test.go (what Inject and Recover call), and
//     use it in a scenario file of the catalogue (scenarios/catalogue).
type Fault interface {
	// Name is the fault's canonical name, e.g. "provider-crash".
	Name() string
	// Target says what it hits, e.g. "p1" or "db-a".
	Target() string
	// Kind says which invariants may excuse what it causes.
	Kind() Kind
	Inject(ctx context.Context, env Env) error
	Recover(ctx context.Context, env Env) error
}

// Kind classifies a fault's blast radius.
type Kind struct {
	// Provider faults make one provider unavailable for a while: a re-pin and
	// failed requests inside the window are expected.
	Provider bool
	// Affects names the provider taken out of service, when there is one.
	Affects string
	// Database faults disturb the database or its replication: lag and
	// divergence inside the window are expected.
	Database bool
	// Balancer faults stop the balancer itself: every request inside the
	// window may fail, and each client may be pinned afresh once after it
	// (the affinity table is lost), never twice.
	Balancer bool
}

// Env is what faults act on. The harness's lab implements it; a
// deployment implements none of it (its faults are Hooks, which need
// nothing from it) and answers every call with an error that says so.
type Env interface {
	CrashProvider(ctx context.Context, id string) error
	RestartProvider(ctx context.Context, id string) error
	HangProvider(ctx context.Context, id string, on bool) error
	// PauseProvider freezes a provider process (SIGSTOP) or thaws it.
	PauseProvider(ctx context.Context, id string, on bool) error
	// StopBalancer stops the balancer as a crash does; StartBalancer starts
	// a fresh one (empty affinity table) on the same addresses.
	StopBalancer(ctx context.Context) error
	StartBalancer(ctx context.Context) error

	// BalancerLinks are the wires from the balancer to one provider.
	BalancerLinks(providerID string) []string
	// DatabaseLink is the wire from a provider to its database.
	DatabaseLink(providerID string) string
	// ClearingLinks are the wires from every provider to one clearing service.
	ClearingLinks(clearing int) []string
	CutLink(name string) error
	RestoreLink(name string) error
	AddToxic(link string, t links.Toxic) error
	RemoveToxic(ctx context.Context, link, toxic string) error

	// Database returns the master-master pair, or an error when the lab
	// runs without one.
	Database() (DB, error)
}

// DB is the master-master pair as faults see it. Sides are "a" and "b".
type DB interface {
	Kill(ctx context.Context, side string) error
	Start(ctx context.Context, side string) error
	Stop(ctx context.Context, side string) error
	Pause(ctx context.Context, side string) error
	Unpause(ctx context.Context, side string) error
	CutReplication(ctx context.Context) error
	HealReplication(ctx context.Context) error
	StopReplica(ctx context.Context, side string) error
	StartReplica(ctx context.Context, side string) error
	SetReplicationDelay(ctx context.Context, side string, d time.Duration) error
	// WriteUnlogged runs a statement on one side with binary logging off:
	// the change never replicates.
	WriteUnlogged(ctx context.Context, side, query string) error
}

// eachLink applies f to every link and returns the first error.
func eachLink(names []string, f func(string) error) error {
	var first error
	for _, n := range names {
		if err := f(n); err != nil && first == nil {
			first = err
		}
	}
	return first
}
