package lb

import (
	"hash/fnv"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// backend is one internal IP with its health state.
type backend struct {
	Backend
	idx  int
	pool *pool
	up   atomic.Bool

	mu        sync.Mutex
	successes int // consecutive, while down
	failures  int // consecutive, while up
	lastErr   string
	changed   time.Time
	served    atomic.Uint64
	idle      idlePool
}

// pool is one tenant's set of backends and its affinity table.
type pool struct {
	cfg      Pool
	backends []*backend
	aff      *affinity
	rr       atomic.Uint64
	broken   Broken
	log      *slog.Logger
	// checkTLS and checkProxy shape the health check of a passthrough
	// pool: a TLS handshake, after a PROXY header of this version (0: none).
	checkTLS   bool
	checkProxy int
}

func newPool(cfg Pool, p Persistence, broken Broken, log *slog.Logger) *pool {
	pl := &pool{cfg: cfg, aff: newAffinity(p), broken: broken, log: log}
	for i, b := range cfg.Backends {
		be := &backend{Backend: b, idx: i, pool: pl, changed: time.Now()}
		be.up.Store(true) // optimistic start, as HAProxy does; checks correct it within fall×interval
		pl.backends = append(pl.backends, be)
	}
	return pl
}

// nextHealthy rotates over the healthy backends; -1 when none is up.
func (p *pool) nextHealthy() int {
	n := len(p.backends)
	start := int(p.rr.Add(1) % uint64(n))
	for i := 0; i < n; i++ {
		b := p.backends[(start+i)%n]
		if b.up.Load() {
			return b.idx
		}
	}
	return -1
}

// pick chooses the backend for a client: source-IP persistence by default,
// or a broken mode. cookie is the value of the broken mode's cookie ("" if
// none); setCookie says the response must (re)insert it. avoid is a backend
// that just failed to connect (-1 for none).
func (p *pool) pick(client netip.Addr, cookie string, avoid int) (b *backend, setCookie bool) {
	keep := func(i int) bool { return i != avoid && p.backends[i].up.Load() }
	switch {
	case p.broken.RoundRobin:
		i := p.nextHealthy()
		if i == avoid {
			i = p.nextHealthy()
		}
		if i < 0 {
			return nil, false
		}
		return p.backends[i], false
	case p.broken.CookieHash != "":
		if cookie == "" {
			break // no cookie yet: fall through to source-IP persistence
		}
		h := fnv.New32a()
		_, _ = h.Write([]byte(cookie))
		n := len(p.backends)
		start := int(h.Sum32() % uint32(n))
		for k := 0; k < n; k++ {
			if be := p.backends[(start+k)%n]; keep(be.idx) {
				return be, false
			}
		}
		return nil, false
	case p.broken.CookieInsert:
		for _, be := range p.backends {
			if be.Name == cookie && keep(be.idx) {
				return be, false
			}
		}
		i := p.nextHealthy()
		if i == avoid {
			i = p.nextHealthy()
		}
		if i < 0 {
			return nil, false
		}
		return p.backends[i], true
	}
	i := p.aff.resolve(p.aff.key(client), time.Now(), keep, func() int {
		i := p.nextHealthy()
		if i == avoid {
			i = p.nextHealthy()
		}
		if i == avoid {
			return -1
		}
		return i
	})
	if i < 0 {
		return nil, false
	}
	return p.backends[i], false
}

// markResult feeds one check result into the rise/fall state machine.
func (b *backend) markResult(ok bool, reason string, rise, fall int, passive bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		b.failures = 0
		if b.up.Load() {
			return
		}
		b.successes++
		if b.successes >= rise {
			b.up.Store(true)
			b.successes = 0
			b.changed = time.Now()
			b.pool.log.Info("backend up", "pool", b.pool.cfg.Name, "backend", b.Name, "address", b.Address)
		}
		return
	}
	b.successes = 0
	b.lastErr = reason
	if !b.up.Load() {
		return
	}
	b.failures++
	// A refused connection is proof enough: passive marking takes it out at once.
	if passive || b.failures >= fall {
		b.up.Store(false)
		b.failures = 0
		b.changed = time.Now()
		b.pool.log.Warn("backend down", "pool", b.pool.cfg.Name, "backend", b.Name, "address", b.Address,
			"reason", reason, "passive", passive)
	}
}
