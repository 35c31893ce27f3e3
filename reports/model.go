// Package reports holds the result model of a run and renders it: a
// self-contained HTML conformance report, report.json, JUnit XML, a Markdown
// summary and a console table. It knows nothing about how results were made.
package reports

import "time"

// Schema is the version tag of report.json.
const Schema = "regify-verify/report/v1"

// Verdict is the outcome of an invariant, a scenario or a run.
type Verdict string

// Verdicts. A run or scenario fails when any invariant fails; it is skipped
// only when every invariant was skipped.
const (
	Pass Verdict = "pass"
	Fail Verdict = "fail"
	Skip Verdict = "skip"
	// Error means the scenario could not be judged (the lab failed to start).
	Error Verdict = "error"
	// Incomplete means the scenario ran but what it exists to prove was not
	// exercised or not judged: a fault that did not take effect, an
	// invariant it requires that was skipped. Never a pass.
	Incomplete Verdict = "incomplete"
)

// Report is the result of one run of one or more scenarios.
type Report struct {
	Schema     string     `json:"schema"`
	RunID      string     `json:"run_id"`
	Seed       int64      `json:"seed"`
	Verdict    Verdict    `json:"verdict"`
	Mode       string     `json:"mode"` // "lab" or "target"
	Started    time.Time  `json:"started"`
	Ended      time.Time  `json:"ended"`
	Incomplete bool       `json:"incomplete,omitempty"` // interrupted before every scenario ran
	Repro      Repro      `json:"repro"`
	Scenarios  []Scenario `json:"scenarios"`
	// InvariantOrder is the order of the invariant columns (the registry's
	// report order, check.Names); invariants it does not name follow in
	// order of first appearance. Reports without it (older report.json
	// files) list every invariant in order of first appearance.
	InvariantOrder []string `json:"invariant_order,omitempty"`
}

// Repro is what a reader needs to run the same thing again.
type Repro struct {
	Command    string            `json:"command"`
	Version    string            `json:"version"`
	GoVersion  string            `json:"go_version"`
	ConfigHash string            `json:"config_hash"`
	Images     map[string]string `json:"images,omitempty"`
}

// Scenario is the result of one scenario.
type Scenario struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Verdict     Verdict   `json:"verdict"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	Error       string    `json:"error,omitempty"` // why it could not be judged
	// NotJudged says why the scenario is incomplete: each entry names a
	// fault that did not take effect or a required invariant that was
	// skipped, and what to do about it.
	NotJudged  []string      `json:"not_judged,omitempty"`
	Invariants []Invariant   `json:"invariants"`
	Topology   *Topology     `json:"topology,omitempty"`
	Faults     []FaultWindow `json:"faults,omitempty"`
	// Load is how long the load ran (the schedule's time scale).
	Load time.Duration `json:"load_ns,omitempty"`
	// Schedule is the fault schedule as the seed placed it, before the
	// run: each fault with the spec that reproduces it.
	Schedule []PlannedFault `json:"schedule,omitempty"`
	// ScheduleDrawn is set when the seed drew the schedule (the nemesis),
	// not only placed it.
	ScheduleDrawn bool      `json:"schedule_drawn,omitempty"`
	Timeline      *Timeline `json:"timeline,omitempty"`
	// Measures are named figures such as "rto_seconds", "rpo_writes".
	Measures map[string]float64 `json:"measures,omitempty"`
	// Agents are the load agents that shared the scenario's users, when
	// the load was split (run --agents).
	Agents []Agent `json:"agents,omitempty"`
	// Negative is true for a negative control: a deliberately broken setup
	// whose Expect invariants must fail for the harness to be trusted.
	Negative bool     `json:"negative,omitempty"`
	Expect   []string `json:"expect_fail,omitempty"`
}

// Invariant is the verdict of one invariant in one scenario.
type Invariant struct {
	Name     string   `json:"name"` // canonical: stickiness, redirect, tls, ...
	Verdict  Verdict  `json:"verdict"`
	Summary  string   `json:"summary"`            // one sentence a manager can read
	Evidence []string `json:"evidence,omitempty"` // the witness: offending requests or rows
}

// FaultWindow is a fault as it appears on the timeline.
type FaultWindow struct {
	Name      string    `json:"name"`
	Target    string    `json:"target,omitempty"`
	Injected  time.Time `json:"injected"`
	Recovered time.Time `json:"recovered,omitempty"`
	// Effect says whether and how the fault was seen to take effect
	// (empty when it declares no effect to check).
	Effect string `json:"effect,omitempty"`
}

// PlannedFault is one fault of a scenario's schedule.
type PlannedFault struct {
	At     time.Duration `json:"at_ns"`  // from the start of the load
	For    time.Duration `json:"for_ns"` // how long it holds
	Name   string        `json:"name"`
	Target string        `json:"target,omitempty"`
	// Spec is the --fault spec that injects it again at the same time.
	Spec string `json:"spec"`
}

// Timeline is the run over time, in fixed buckets from Scenario.Started.
type Timeline struct {
	Bucket time.Duration `json:"bucket_ns"`
	Points []Point       `json:"points"`
	Lag    []LagPoint    `json:"lag,omitempty"`
}

// Point is one bucket of the timeline.
type Point struct {
	Offset      time.Duration  `json:"offset_ns"` // from Scenario.Started
	Requests    int            `json:"requests"`
	Errors      int            `json:"errors"`
	P50         time.Duration  `json:"p50_ns"`
	P90         time.Duration  `json:"p90_ns"`
	P99         time.Duration  `json:"p99_ns"`
	PerProvider map[string]int `json:"per_provider,omitempty"`
}

// LagPoint is one replication lag measurement.
type LagPoint struct {
	Offset time.Duration `json:"offset_ns"`
	From   string        `json:"from"`
	Lag    time.Duration `json:"lag_ns"`
	Failed bool          `json:"failed,omitempty"`
}

// Topology is the setup a scenario ran on, drawn like the seed's diagram.
type Topology struct {
	Mode      string         `json:"mode"` // offload or passthrough
	Balancer  string         `json:"balancer"`
	Domains   []TopoDomain   `json:"domains"`
	Providers []TopoProvider `json:"providers"`
	Databases []TopoNode     `json:"databases,omitempty"`
	Clearing  []TopoNode     `json:"clearing,omitempty"`
	Clients   string         `json:"clients,omitempty"` // 127.0.10.1-127.0.10.16
	// Nodes says where the lab's balancer, providers and clearing ran:
	// "inprocess" or "containers".
	Nodes string `json:"nodes,omitempty"`
}

// TopoDomain is one public name.
type TopoDomain struct {
	Name     string `json:"name"`
	PublicIP string `json:"public_ip"`
	HTTPS    string `json:"https"`
	HTTP     string `json:"http"`
}

// TopoProvider is one provider with its internal addresses per tenant.
type TopoProvider struct {
	ID       string            `json:"id"`
	Internal map[string]string `json:"internal"` // tenant -> internal ip:port
}

// TopoNode is a named address.
type TopoNode struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// Finish computes the verdicts of every scenario and of the report from
// their invariants. A negative control passes when each expected invariant
// failed; its other invariants are shown but do not decide it.
func (r *Report) Finish() {
	r.Schema = Schema
	r.Verdict = Pass
	all := len(r.Scenarios) > 0
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		s.Verdict = s.judge()
		switch s.Verdict {
		case Fail, Error:
			if r.Verdict != Error {
				r.Verdict = s.Verdict
			}
			all = false
		case Incomplete:
			// A definite failure or error says more than a gap.
			if r.Verdict == Pass || r.Verdict == Skip {
				r.Verdict = Incomplete
			}
			all = false
		case Pass:
			all = false
		}
	}
	if all {
		r.Verdict = Skip
	}
	if len(r.Scenarios) == 0 {
		r.Verdict = Error
	}
}

// Judge sets the scenario's verdict from what it holds, as Finish does for
// every scenario of a report, and returns it.
func (s *Scenario) Judge() Verdict {
	s.Verdict = s.judge()
	return s.Verdict
}

func (s *Scenario) judge() Verdict {
	if s.Error != "" {
		return Error
	}
	if s.Negative {
		failed := map[string]bool{}
		for _, inv := range s.Invariants {
			if inv.Verdict == Fail {
				failed[inv.Name] = true
			}
		}
		for _, name := range s.Expect {
			if !failed[name] {
				if len(s.NotJudged) > 0 {
					return Incomplete // the breakage may never have been exercised
				}
				return Fail
			}
		}
		return Pass // the broken setup was caught: that is what it is for
	}
	if len(s.NotJudged) > 0 {
		for _, inv := range s.Invariants {
			if inv.Verdict == Fail {
				return Fail
			}
		}
		return Incomplete
	}
	v := Skip
	for _, inv := range s.Invariants {
		switch inv.Verdict {
		case Fail:
			return Fail
		case Pass:
			v = Pass
		}
	}
	return v
}

// Agent is one load agent of a scenario: which users it ran from which
// addresses, how many requests it sent, how far its clock was from the
// coordinator's and how sure that is, and why it ended early if it did.
type Agent struct {
	ID        string   `json:"id"`
	Engine    string   `json:"engine"` // local, …
	Users     string   `json:"users"`  // u001-u004
	SourceIPs []string `json:"source_ips"`
	// SeenAs are the client addresses the balancer saw for the agent's
	// requests (the last hop of X-Forwarded-For its providers report),
	// at most 16.
	SeenAs   []string `json:"seen_as,omitempty"`
	Requests int      `json:"requests"`
	// Offered is every arrival the agent's schedule made, Dropped those
	// dropped at its end because their user was still busy: the load it
	// was asked for, against the Requests it drove.
	Offered int64 `json:"offered,omitempty"`
	Dropped int64 `json:"dropped_arrivals,omitempty"`
	// ClockOffset is how far the agent's clock was ahead of the
	// coordinator's; its request times were moved back by it. ClockBound
	// is how wrong a moved time can be.
	ClockOffset time.Duration `json:"clock_offset_ns"`
	ClockBound  time.Duration `json:"clock_bound_ns"`
	// Died says why the agent ended before its load did; its requests up
	// to then are in the history.
	Died string `json:"died,omitempty"`
}
