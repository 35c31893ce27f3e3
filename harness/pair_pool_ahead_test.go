package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAheadNext: what the pool starts ahead of its scenarios. The usual
// pair is kept at one per database lane while scenarios remain (pairs
// handed out count: they come back); a negative control's pair is started
// for each scenario that takes it, one ready at a time; nothing is started for a key that
// failed or that no scenario will take any more.
func TestAheadNext(t *testing.T) {
	usual := PairOptions{}
	mixed := PairOptions{MixedBinlog: true}
	oneWay := PairOptions{OneWay: true}
	pair := &Pair{}
	cases := []struct {
		name      string
		remaining map[PairOptions]int
		out       map[PairOptions]int
		starting  map[PairOptions]int
		failed    map[PairOptions]bool
		idle      map[PairOptions][]*Pair
		want      PairOptions
		none      bool
	}{
		{name: "two lanes warm: nothing for the usual pair", remaining: map[PairOptions]int{usual: 9}, idle: map[PairOptions][]*Pair{usual: {pair, pair}}, none: true},
		{name: "handed out counts as supply", remaining: map[PairOptions]int{usual: 9}, out: map[PairOptions]int{usual: 1}, idle: map[PairOptions][]*Pair{usual: {pair}}, none: true},
		{name: "one discarded: a replacement", remaining: map[PairOptions]int{usual: 5}, out: map[PairOptions]int{usual: 1}, want: usual},
		{name: "replacement already starting", remaining: map[PairOptions]int{usual: 5}, out: map[PairOptions]int{usual: 1}, starting: map[PairOptions]int{usual: 1}, none: true},
		{name: "last usual scenario needs one pair, not two", remaining: map[PairOptions]int{usual: 1}, out: map[PairOptions]int{usual: 1}, none: true},
		{name: "the usual pair first, then the negative control's", remaining: map[PairOptions]int{usual: 3, mixed: 1}, want: usual},
		{name: "a negative control's pair ahead", remaining: map[PairOptions]int{usual: 3, mixed: 1}, out: map[PairOptions]int{usual: 2}, want: mixed},
		{name: "one pair never reused ready at a time", remaining: map[PairOptions]int{usual: 0, mixed: 1, oneWay: 2}, idle: map[PairOptions][]*Pair{oneWay: {pair}}, none: true},
		{name: "the next once it is taken", remaining: map[PairOptions]int{usual: 0, mixed: 1, oneWay: 1}, want: mixed},
		{name: "another of the same kind for its next scenario", remaining: map[PairOptions]int{usual: 0, mixed: 0, oneWay: 2}, want: oneWay},
		{name: "none while one is being started", remaining: map[PairOptions]int{usual: 0, mixed: 1, oneWay: 1}, starting: map[PairOptions]int{oneWay: 1}, none: true},
		{name: "a failed key is left to its scenario", remaining: map[PairOptions]int{mixed: 1}, failed: map[PairOptions]bool{mixed: true}, none: true},
		{name: "nothing left to come", remaining: map[PairOptions]int{usual: 0, mixed: 0}, none: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newAhead()
			a.lanes = 2
			for _, key := range []PairOptions{usual, mixed, oneWay} {
				if n, ok := tc.remaining[key]; ok {
					a.order = append(a.order, key)
					a.remaining[key] = n
				}
			}
			for k, v := range tc.out {
				a.out[k] = v
			}
			for k, v := range tc.starting {
				a.starting[k] = v
			}
			for k, v := range tc.failed {
				a.failed[k] = v
			}
			got, ok := a.next(tc.idle)
			if tc.none {
				assert.False(t, ok, "nothing to start, got %+v", got)
				return
			}
			assert.True(t, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestAheadClaims: claims and returns keep the counts next works from.
func TestAheadClaims(t *testing.T) {
	a := newAhead()
	usual, mixed := PairOptions{}, PairOptions{MixedBinlog: true}
	a.remaining[usual], a.remaining[mixed] = 2, 1
	a.claim(usual)
	a.claim(mixed)
	assert.Equal(t, 1, a.remaining[usual])
	assert.Equal(t, 0, a.remaining[mixed])
	assert.Equal(t, 1, a.out[usual], "a usual pair handed out comes back")
	assert.Equal(t, 0, a.out[mixed], "a negative control's pair does not")
	a.claim(mixed)
	assert.Equal(t, 0, a.remaining[mixed], "never below zero")
}
