package agents

import "time"

// clockSample is one comparison of an agent's clock with ours: we asked at
// sent, it answered with its clock at, we read the answer at got.
type clockSample struct {
	sent, at, got time.Time
}

// offset is how far the agent's clock is ahead of ours, taking the answer
// to have been made half-way through the round trip; bound is how wrong
// that can be (half the round trip).
func (s clockSample) offset() (offset, bound time.Duration) {
	rtt := s.got.Sub(s.sent)
	mid := s.sent.Add(rtt / 2)
	return s.at.Sub(mid), rtt / 2
}

// Clock is what an agent's clock comparisons at the start and the end of
// its load gave.
type Clock struct {
	// Offset is the agent's clock ahead of the coordinator's (at the
	// start); request times are moved back by it.
	Offset time.Duration
	// Bound is how wrong a moved time can be: half the slower round trip,
	// plus how far the offset drifted between start and end.
	Bound time.Duration
}

// clockOf combines the start and end samples (end may be zero when the
// agent died before it).
func clockOf(start, end clockSample) Clock {
	off, b := start.offset()
	c := Clock{Offset: off, Bound: b}
	if end.got.IsZero() {
		return c
	}
	off2, b2 := end.offset()
	drift := off2 - off
	if drift < 0 {
		drift = -drift
	}
	c.Bound = max(b, b2) + drift
	return c
}
