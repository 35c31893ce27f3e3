package load

import (
	"sync/atomic"

	"github.com/regify-verify/regify-verify/history"
)

// Stats is a snapshot of a running load.
type Stats struct {
	Requests int64 // finished requests
	Errors   int64 // finished with a transport error or a status outside 200–399
	InFlight int64 // sent and not yet finished
}

// Counters are updated by Run and may be read at any time with Snapshot.
type Counters struct {
	requests atomic.Int64
	errors   atomic.Int64
	inFlight atomic.Int64
}

// Snapshot reads the counters.
func (c *Counters) Snapshot() Stats {
	return Stats{
		Requests: c.requests.Load(),
		Errors:   c.errors.Load(),
		InFlight: c.inFlight.Load(),
	}
}

// Count adds a request finished elsewhere (an agent's, merged by a
// coordinator) to the counters.
func (c *Counters) Count(r *history.Request) {
	if c == nil {
		return
	}
	c.requests.Add(1)
	if failed(r) {
		c.errors.Add(1)
	}
}
