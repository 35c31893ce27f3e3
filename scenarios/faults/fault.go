// Package faults holds the lab's faults, one file each. A fault has a name,
// a target, and two verbs: Inject breaks something, Recover mends it. Faults
// act on the lab only through the Lab interface, so they take what they need
// as arguments and hold no shared mutable state.
package faults

import (
	"context"
	"time"

	"github.com/regify-verify/regify-verify/harness/links"
)

// Fault is one thing that can go wrong in a deployment.
type Fault interface {
	// Name is the fault's canonical name, e.g. "provider-crash".
	Name() string
	// Target says what it hits, e.g. "p1" or "db-a".
	Target() string
	// Kind says which invariants may excuse what it causes.
	Kind() Kind
	Inject(ctx context.Context) error
	Recover(ctx context.Context) error
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
}

// Lab is what faults act on. The harness's lab implements it.
type Lab interface {
	CrashProvider(ctx context.Context, id string) error
	RestartProvider(ctx context.Context, id string) error
	HangProvider(ctx context.Context, id string, on bool) error

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
