package lb

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const affinityShards = 64

// affinityKey is a client address after the mask: IPv4 in v4 (is4 set),
// IPv6 in v6. Compact keys keep a million pins well under 128 MB.
type affinityKey struct {
	v4  uint32
	v6  [16]byte
	is4 bool
}

// affinity is the source-IP persistence table of one pool: client key →
// backend index, with an idle timeout and a size bound. Each value packs the
// last-seen time (ms since the table's epoch, 48 bits) and the backend (16 bits).
type affinity struct {
	epoch  time.Time
	idle   time.Duration
	max    int64
	count  atomic.Int64 // pins in all shards: the size bound is global
	mask4  int
	mask6  int
	shards [affinityShards]affinityShard
}

type affinityShard struct {
	mu sync.Mutex
	v4 map[uint32]uint64
	v6 map[[16]byte]uint64
}

func newAffinity(p Persistence) *affinity {
	a := &affinity{epoch: time.Now(), idle: p.IdleTimeout, mask4: p.IPv4Mask, mask6: p.IPv6Mask}
	a.max = int64(max(p.MaxEntries, 1))
	for i := range a.shards {
		a.shards[i].v4 = map[uint32]uint64{}
		a.shards[i].v6 = map[[16]byte]uint64{}
	}
	return a
}

func (a *affinity) key(addr netip.Addr) affinityKey {
	addr = addr.Unmap()
	if addr.Is4() {
		b := addr.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if a.mask4 < 32 {
			v &^= (1 << (32 - a.mask4)) - 1
		}
		return affinityKey{v4: v, is4: true}
	}
	p, _ := addr.Prefix(a.mask6)
	return affinityKey{v6: p.Addr().As16()}
}

func (k affinityKey) shard() int {
	var h uint32
	if k.is4 {
		h = k.v4
	} else {
		for _, b := range k.v6 {
			h = h*31 + uint32(b)
		}
	}
	return int((h * 2654435761) >> 26) // top 6 bits: 64 shards
}

func (a *affinity) now(t time.Time) uint64 { return uint64(max(t.Sub(a.epoch).Milliseconds(), 0)) }

// expired reports whether a pin last seen at seen is older than idle at now.
// A pin seen after now is fresh: the sweeper's clock comes from a ticker and
// lags requests that touched pins meanwhile (unsigned now-seen would wrap
// around and drop a live pin, moving its client to another provider).
func expired(now, seen, idle uint64) bool { return now > seen && now-seen > idle }

func pack(ms uint64, backend int) uint64 { return ms<<16 | uint64(uint16(backend)) }

func unpack(v uint64) (ms uint64, backend int) { return v >> 16, int(uint16(v)) }

// resolve returns the backend pinned for k if it is still wanted (keep says
// so); otherwise it pins choose()'s answer. choose returns -1 when there is
// nothing to pin to. The pin's idle clock restarts on every call.
func (a *affinity) resolve(k affinityKey, t time.Time, keep func(int) bool, choose func() int) int {
	now := a.now(t)
	idleMS := uint64(a.idle.Milliseconds())
	s := &a.shards[k.shard()]
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.get(k)
	if ok {
		seen, idx := unpack(v)
		if !expired(now, seen, idleMS) && keep(idx) {
			s.put(k, pack(now, idx))
			return idx
		}
	}
	idx := choose()
	if idx < 0 {
		return -1
	}
	if !ok {
		if a.count.Load() >= a.max && s.evict() {
			a.count.Add(-1)
		}
		a.count.Add(1)
	}
	s.put(k, pack(now, idx))
	return idx
}

// pinned reports the backend a client is pinned to, without touching it.
func (a *affinity) pinned(k affinityKey, t time.Time) (int, bool) {
	s := &a.shards[k.shard()]
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.get(k)
	if !ok {
		return 0, false
	}
	seen, idx := unpack(v)
	if expired(a.now(t), seen, uint64(a.idle.Milliseconds())) {
		return 0, false
	}
	return idx, true
}

func (s *affinityShard) get(k affinityKey) (uint64, bool) {
	if k.is4 {
		v, ok := s.v4[k.v4]
		return v, ok
	}
	v, ok := s.v6[k.v6]
	return v, ok
}

func (s *affinityShard) put(k affinityKey, v uint64) {
	if k.is4 {
		s.v4[k.v4] = v
	} else {
		s.v6[k.v6] = v
	}
}

func (s *affinityShard) len() int { return len(s.v4) + len(s.v6) }

// evict makes room for one entry: the least recently seen of a sample of
// this shard goes (sampled LRU, as Redis does); expired pins are the oldest.
func (s *affinityShard) evict() bool {
	const sample = 8
	var oldest uint64 = ^uint64(0)
	var old4 uint32
	var old6 [16]byte
	is4 := false
	n := 0
	for k, v := range s.v4 {
		seen, _ := unpack(v)
		if seen < oldest {
			oldest, old4, is4 = seen, k, true
		}
		if n++; n >= sample {
			break
		}
	}
	n = 0
	for k, v := range s.v6 {
		seen, _ := unpack(v)
		if seen < oldest {
			oldest, old6, is4 = seen, k, false
		}
		if n++; n >= sample {
			break
		}
	}
	if oldest == ^uint64(0) {
		return false // this shard is empty; the bound is exceeded by at most one per shard
	}
	if is4 {
		delete(s.v4, old4)
	} else {
		delete(s.v6, old6)
	}
	return true
}

// sweep drops every expired pin.
func (a *affinity) sweep(t time.Time) {
	now := a.now(t)
	idleMS := uint64(a.idle.Milliseconds())
	for i := range a.shards {
		s := &a.shards[i]
		s.mu.Lock()
		for k, v := range s.v4 {
			if seen, _ := unpack(v); expired(now, seen, idleMS) {
				delete(s.v4, k)
				a.count.Add(-1)
			}
		}
		for k, v := range s.v6 {
			if seen, _ := unpack(v); expired(now, seen, idleMS) {
				delete(s.v6, k)
				a.count.Add(-1)
			}
		}
		s.mu.Unlock()
	}
}

// size counts the pins (expired ones not yet swept included).
func (a *affinity) size() int {
	n := 0
	for i := range a.shards {
		s := &a.shards[i]
		s.mu.Lock()
		n += s.len()
		s.mu.Unlock()
	}
	return n
}
