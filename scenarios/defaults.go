package scenarios

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/scenarios/check"
)

// Defaults of every run, lab or deployment, in one place.
const (
	// DefaultUsers, DefaultRate (requests/s) and DefaultDuration are the
	// load when neither the scenario nor the run says.
	DefaultUsers    = 12
	DefaultRate     = 60
	DefaultDuration = 6 * time.Second
	// ConvergeBound is how long a run waits after the last fault for the
	// two masters to hold the same rows.
	ConvergeBound = 15 * time.Second
	// ClientTimeout bounds one request of the load.
	ClientTimeout = 3 * time.Second
	// LabHealthBound is how long the lab's balancer takes at most to mark
	// a dead or hung backend down: two failed checks 250 ms apart, each
	// allowed 500 ms, plus one interval.
	LabHealthBound = 1250 * time.Millisecond
	// ProviderFaultFor is how long the catalogue's provider faults last:
	// longer than a request can wait (ClientTimeout) plus the health bound,
	// so that the fail-over path really runs — clients are moved, not just
	// made to wait until the fault ends by itself.
	ProviderFaultFor = 5 * time.Second
	// LabMaxRecovery bounds the fail-over as users feel it (latency from
	// the schedule): a request already sent to a provider that hangs waits
	// until the client gives up (ClientTimeout), and the user's next
	// arrivals wait behind it; new requests must be moved within the health
	// bound. So: the client timeout, plus the health bound, plus slack.
	LabMaxRecovery = ClientTimeout + LabHealthBound + 500*time.Millisecond
	// replayBarrierBound bounds the wait for the replay probe's rotation to
	// replicate (milliseconds in a healthy pair).
	replayBarrierBound = 5 * time.Second
	// lagEvery is how often replication lag is sampled while the load runs.
	lagEvery = 500 * time.Millisecond
	// maxRowDiffs bounds the rows of a divergence kept as its witness.
	maxRowDiffs = 10
)

// checkedTables are the provider's tables compared between the masters.
var checkedTables = []string{"messages", "sessions"}

// NewSeed picks a seed from the clock when the user gave none.
func NewSeed() int64 { return time.Now().UnixNano() % 1_000_000 }

// NewRunID names a run from the clock.
func NewRunID() string { return fmt.Sprintf("rv%d", time.Now().Unix()%1_000_000) }

// TimelineBucket is the width of one bar of a run's timelines: about 60
// bars over the load, never narrower than 100 ms.
func TimelineBucket(d time.Duration) time.Duration {
	b := d / 60
	if b < 100*time.Millisecond {
		b = 100 * time.Millisecond
	}
	return b.Round(100 * time.Millisecond)
}

// FileName turns a scenario name into a file name ("staging/stop-p1" →
// "staging-stop-p1").
func FileName(name string) string {
	return strings.NewReplacer(" ", "-", "/", "-").Replace(name)
}

// Version is the module version of the binary, with the VCS revision.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}

// LabBounds are the invariants' bounds for the built-in lab: its balancer
// checks health every 250 ms and marks a backend down after 2 failures, so
// users must be working again within LabMaxRecovery. Replication lag is bounded at
// 2 s: a healthy pair lags about a millisecond, but a 2-core machine running
// the whole lab can starve a server for a second now and then.
func LabBounds() check.Bounds {
	b := check.DefaultBounds()
	b.MaxRecovery = LabMaxRecovery
	b.FailoverBudget = 150
	b.MaxLag = 2 * time.Second
	b.MaxConvergeWait = ConvergeBound
	return b
}

func pick(run, scenario, def int) int {
	switch {
	case run > 0:
		return run
	case scenario > 0:
		return scenario
	}
	return def
}
