package dbobserve

import (
	"fmt"
	"time"
)

// SettledFor is how long a pair must stay settled — each master has
// applied all the other wrote, nothing new is written and the checksums
// stay as they are, yet they differ — before a wait with
// GiveUpWhenSettled gives up.
const SettledFor = time.Second

// settledSince follows, round after round of a wait, since when the pair
// has been settled apart.
type settledSince struct {
	key   string
	since time.Time
}

// check returns why waiting on is pointless ("" when it is not): both
// masters applied each other's writes (applied, from ConvergeOptions.
// Applied), their binary log positions (pos) and the checksums of the
// compared tables (sums, read on both sides) have not changed for
// SettledFor, and the checksums differ. Replication has nothing left to
// deliver that could make them equal; only a new write could.
func (s *settledSince) check(applied bool, pos string, sums *[2]Checksums, now time.Time) string {
	if !applied || sums == nil || sums[A].Equal(sums[B]) {
		s.key, s.since = "", time.Time{}
		return ""
	}
	key := fmt.Sprintf("%s|%v|%v", pos, sums[A], sums[B])
	if key != s.key {
		s.key, s.since = key, now
		return ""
	}
	if d := now.Sub(s.since); d >= SettledFor {
		return fmt.Sprintf("both masters had applied all of each other's writes and nothing new was written for %s, yet their tables differ: replication has nothing left that could make them equal, so the wait ended", d.Round(100*time.Millisecond))
	}
	return ""
}
