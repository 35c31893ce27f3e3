package lb

import (
	"bufio"
	"net"
	"sync"
	"time"
)

// Idle keep-alive connections to one backend, shared by client connections:
// a client that opens a connection per request (no keep-alive) need not cost
// a backend connect each time. Only body-less requests take one, because a
// pooled connection may have been closed by the backend meanwhile and only
// those requests can be retried safely.

const (
	maxIdlePerBackend = 64
	maxIdleAge        = 5 * time.Second // backends close idle connections after a while
)

type idleConn struct {
	c     net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	since time.Time
}

type idlePool struct {
	mu    sync.Mutex
	conns []idleConn
}

// take returns the most recently parked connection that is young enough.
func (p *idlePool) take(now time.Time) (idleConn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.conns) > 0 {
		ic := p.conns[len(p.conns)-1]
		p.conns = p.conns[:len(p.conns)-1]
		if now.Sub(ic.since) <= maxIdleAge {
			return ic, true
		}
		closeIdle(ic)
	}
	return idleConn{}, false
}

// put parks a connection; false when the pool is full (the caller closes it).
func (p *idlePool) put(ic idleConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) >= maxIdlePerBackend {
		return false
	}
	p.conns = append(p.conns, ic)
	return true
}

// purge closes connections older than maxIdleAge (all when all is set).
func (p *idlePool) purge(now time.Time, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.conns[:0]
	for _, ic := range p.conns {
		if all || now.Sub(ic.since) > maxIdleAge {
			closeIdle(ic)
			continue
		}
		kept = append(kept, ic)
	}
	clear(p.conns[len(kept):])
	p.conns = kept
}

func closeIdle(ic idleConn) {
	ic.c.Close()
	putReader(ic.br)
	putWriter(ic.bw)
}
