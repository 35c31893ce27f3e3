package agents

import (
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// Commands the coordinator writes, one a line, after the task.
const (
	cmdClock = "clock" // answer with your clock now
	cmdGo    = "go"    // start the load now
	// cmdEnd ends the agent's input where closing it cannot be seen: over
	// HTTP the coordinator's half of the exchange (the response) ends
	// only after the agent's half has, so the agent is told in band.
	cmdEnd = "end"
)

// msg is one line an agent writes.
type msg struct {
	Type    string           `json:"type"` // clock, request, done
	Clock   time.Time        `json:"clock,omitzero"`
	Request *history.Request `json:"request,omitempty"`
	Err     string           `json:"err,omitempty"`
	// Offered and Dropped, with done, are the agent's arrivals: every
	// one its schedule made and those dropped at its end because their
	// user was still busy (load.Arrivals).
	Offered int64 `json:"offered,omitempty"`
	Dropped int64 `json:"dropped,omitempty"`
}

// Message types an agent writes.
const (
	msgClock   = "clock"
	msgRequest = "request"
	msgDone    = "done"
)
