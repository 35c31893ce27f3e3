package lb

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// Balancer is a running (or ready to run) balancer.
type Balancer struct {
	cfg   Config
	log   *slog.Logger
	pools map[string]*pool
	order []*pool
	certs *certStore

	mu        sync.Mutex
	started   bool
	listeners []*listenerState
	conns     map[*trackedConn]struct{}
	draining  atomic.Bool
	stopBg    context.CancelFunc
	// connCtx bounds the blocking calls of client connections (backend
	// dials); it ends when Shutdown gives up draining and closes hard.
	connCtx   context.Context
	stopConns context.CancelFunc
	bgDone    sync.WaitGroup // checkers, sweeper, accept loops
	connWG    sync.WaitGroup // client connections
	admin     *http.Server
	adminLn   net.Listener
	h2base    *http.Server
	h2        *http2.Server
	transport *http.Transport
}

type listenerState struct {
	cfg  Listener
	ln   net.Listener
	tls  *tls.Config
	pool *pool
	h2   http.Handler // for HTTP/2 clients of an https listener
	// portSuffix is ":8443" for redirects to a non-default https port.
	portSuffix string
}

// trackedConn is a client connection the drain logic can see and close.
type trackedConn struct {
	net.Conn
	idle atomic.Bool

	mu   sync.Mutex
	peer net.Conn // the backend connection, closed with a hard shutdown
}

func (tc *trackedConn) setPeer(c net.Conn) {
	tc.mu.Lock()
	tc.peer = c
	tc.mu.Unlock()
}

// closeHard closes the client and its backend connection, so a goroutine
// blocked on either side returns.
func (tc *trackedConn) closeHard() {
	tc.Conn.Close()
	tc.mu.Lock()
	if tc.peer != nil {
		tc.peer.Close()
	}
	tc.mu.Unlock()
}

// New checks cfg and builds a balancer; nothing listens until Start.
func New(cfg Config, logger *slog.Logger) (*Balancer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("lb config: %w", err)
	}
	bl := &Balancer{cfg: cfg, log: logger, pools: map[string]*pool{}, conns: map[*trackedConn]struct{}{}}
	for _, p := range cfg.Pools {
		pl := newPool(p, cfg.Persistence, cfg.Broken, logger)
		bl.pools[p.Name] = pl
		bl.order = append(bl.order, pl)
	}
	// A pool behind a passthrough listener speaks TLS (and expects the
	// PROXY header the listener sends): its health checks must too.
	for _, l := range cfg.Listeners {
		if pl := bl.pools[l.Pool]; pl != nil && l.Mode == ModePassthrough {
			pl.checkTLS = true
			pl.checkProxy = l.ProxyProtocol
		}
	}
	if len(cfg.Certificates) > 0 {
		cs, err := newCertStore(cfg.Certificates)
		if err != nil {
			return nil, fmt.Errorf("lb config: %w", err)
		}
		bl.certs = cs
	}
	bl.transport = &http.Transport{
		DialContext:           (&net.Dialer{Timeout: cfg.Timeouts.Connect}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       cfg.Timeouts.Idle,
		ResponseHeaderTimeout: cfg.Timeouts.Backend,
	}
	bl.h2base = &http.Server{
		ReadHeaderTimeout: cfg.Timeouts.ReadHeader, IdleTimeout: cfg.Timeouts.Idle, MaxHeaderBytes: cfg.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	bl.h2 = &http2.Server{IdleTimeout: cfg.Timeouts.Idle, MaxUploadBufferPerConnection: 1 << 20}
	if err := http2.ConfigureServer(bl.h2base, bl.h2); err != nil {
		return nil, fmt.Errorf("configure http2: %w", err)
	}
	return bl, nil
}

// Start opens every listener (and the admin endpoint) and returns once all
// listen; ports given as 0 are chosen by the kernel (see Addrs). ctx bounds
// the start only: the balancer runs until Shutdown.
func (bl *Balancer) Start(ctx context.Context) error {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	if bl.started {
		return errors.New("lb: already started")
	}
	var lc net.ListenConfig
	var opened []net.Listener
	fail := func(err error) error {
		for _, ln := range opened {
			ln.Close()
		}
		for _, l := range bl.cfg.Listeners {
			if l.Open != nil {
				l.Open.Close() // ours since Start was called, used or not
			}
		}
		return err
	}
	for _, l := range bl.cfg.Listeners {
		ln := l.Open
		if ln == nil {
			var err error
			if ln, err = lc.Listen(ctx, "tcp", l.Address); err != nil {
				bl.listeners = nil
				return fail(fmt.Errorf("listen %s (%s): %w", l.Name, l.Address, err))
			}
			opened = append(opened, ln)
		}
		st := &listenerState{cfg: l, ln: ln, pool: bl.pools[l.Pool]}
		if l.RedirectPort != 0 && l.RedirectPort != 443 {
			st.portSuffix = ":" + strconv.Itoa(l.RedirectPort)
		}
		if l.Mode == ModeHTTPS {
			st.tls = bl.tlsConfig(l)
			st.h2 = bl.h2Handler(st, "https")
		}
		bl.listeners = append(bl.listeners, st)
	}
	if bl.cfg.Admin != "" {
		ln, err := lc.Listen(ctx, "tcp", bl.cfg.Admin)
		if err != nil {
			bl.listeners = nil
			return fail(fmt.Errorf("listen admin %s: %w", bl.cfg.Admin, err))
		}
		bl.adminLn = ln
		bl.admin = &http.Server{Handler: bl.adminHandler(), ReadHeaderTimeout: bl.cfg.Timeouts.ReadHeader}
	}
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	bl.stopBg = cancel
	bl.connCtx, bl.stopConns = context.WithCancel(context.WithoutCancel(ctx))
	bl.started = true
	for _, st := range bl.listeners {
		bl.bgDone.Add(1)
		go bl.acceptLoop(st)
		bl.log.Info("lb listening", "listener", st.cfg.Name, "mode", st.cfg.Mode, "address", st.ln.Addr().String(), "pool", st.cfg.Pool)
	}
	if bl.admin != nil {
		bl.bgDone.Add(1)
		go func() {
			defer bl.bgDone.Done()
			_ = bl.admin.Serve(bl.adminLn)
		}()
	}
	if !bl.cfg.Broken.NoHealthChecks {
		for _, p := range bl.order {
			for _, b := range p.backends {
				bl.bgDone.Add(1)
				go func() {
					defer bl.bgDone.Done()
					bl.checkLoop(bgCtx, b)
				}()
			}
		}
	}
	bl.bgDone.Add(1)
	go func() {
		defer bl.bgDone.Done()
		bl.sweepLoop(bgCtx)
	}()
	return nil
}

func (bl *Balancer) sweepLoop(ctx context.Context) {
	every := bl.cfg.Persistence.IdleTimeout / 2
	every = min(max(every, 100*time.Millisecond), maxIdleAge)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, p := range bl.order {
				p.aff.sweep(now)
				for _, b := range p.backends {
					b.idle.purge(now, false)
				}
			}
		}
	}
}

// Addrs returns the listening addresses in the order of Config.Listeners.
func (bl *Balancer) Addrs() []net.Addr {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	out := make([]net.Addr, 0, len(bl.listeners))
	for _, st := range bl.listeners {
		out = append(out, st.ln.Addr())
	}
	return out
}

// Addr returns the listening address of the listener with this name (nil if none).
func (bl *Balancer) Addr(name string) net.Addr {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	for _, st := range bl.listeners {
		if st.cfg.Name == name {
			return st.ln.Addr()
		}
	}
	return nil
}

// AdminAddr is the admin endpoint's address (nil when off).
func (bl *Balancer) AdminAddr() net.Addr {
	if bl.adminLn == nil {
		return nil
	}
	return bl.adminLn.Addr()
}

func (bl *Balancer) acceptLoop(st *listenerState) {
	defer bl.bgDone.Done()
	var tempDelay time.Duration
	for {
		c, err := st.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay) // out of file descriptors: back off as net/http does
				continue
			}
			bl.log.Error("accept failed", "listener", st.cfg.Name, "err", err)
			return
		}
		tempDelay = 0
		tc := &trackedConn{Conn: c}
		bl.mu.Lock()
		if bl.draining.Load() {
			bl.mu.Unlock()
			c.Close()
			continue
		}
		bl.conns[tc] = struct{}{}
		bl.connWG.Add(1)
		bl.mu.Unlock()
		go func() {
			defer func() {
				tc.Close()
				bl.mu.Lock()
				delete(bl.conns, tc)
				bl.mu.Unlock()
				bl.connWG.Done()
			}()
			bl.serveConn(st, tc)
		}()
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (bl *Balancer) serveConn(st *listenerState, tc *trackedConn) {
	switch st.cfg.Mode {
	case ModeHTTPS:
		bl.serveTLS(st, tc)
	case ModeRedirect:
		if bl.cfg.Broken.NoRedirect {
			bl.serveH1(st, tc, tc.Conn, "http")
			return
		}
		bl.serveRedirect(st, tc)
	case ModeHTTP:
		bl.serveH1(st, tc, tc.Conn, "http")
	case ModePassthrough:
		bl.servePassthrough(st, tc)
	}
}

func (bl *Balancer) serveTLS(st *listenerState, tc *trackedConn) {
	tlsConn := tls.Server(tc.Conn, st.tls)
	// The deadline bounds the handshake (a context would cost a watcher per
	// connection); a drain's hard close ends it too.
	tc.Conn.SetDeadline(time.Now().Add(bl.cfg.Timeouts.Handshake))
	if err := tlsConn.Handshake(); err != nil {
		bl.log.Debug("tls handshake failed", "listener", st.cfg.Name, "client", tc.RemoteAddr().String(), "err", err)
		return
	}
	tc.Conn.SetDeadline(time.Time{})
	if tlsConn.ConnectionState().NegotiatedProtocol == "h2" {
		bl.serveH2(st, tc, tlsConn)
		return
	}
	bl.serveH1(st, tc, tlsConn, "https")
}

// Shutdown stops accepting, lets requests in flight finish and closes idle
// connections; when ctx ends first, the rest are closed hard. It returns
// ctx's error in that case.
func (bl *Balancer) Shutdown(ctx context.Context) error {
	bl.mu.Lock()
	if !bl.started || bl.draining.Load() {
		bl.mu.Unlock()
		return nil
	}
	bl.draining.Store(true)
	for _, st := range bl.listeners {
		st.ln.Close()
	}
	bl.mu.Unlock()
	bl.stopBg()
	if bl.admin != nil {
		_ = bl.admin.Shutdown(ctx)
	}
	_ = bl.h2base.Shutdown(ctx) // sends GOAWAY on every h2 connection
	var err error
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		bl.mu.Lock()
		n := len(bl.conns)
		for tc := range bl.conns {
			if tc.idle.Load() {
				tc.Close()
			}
		}
		bl.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			err = fmt.Errorf("lb shutdown: %w", ctx.Err())
			bl.stopConns()
			bl.mu.Lock()
			for tc := range bl.conns {
				tc.closeHard()
			}
			bl.mu.Unlock()
		case <-t.C:
			continue
		}
		break
	}
	bl.connWG.Wait()
	bl.stopConns()
	bl.bgDone.Wait()
	bl.transport.CloseIdleConnections()
	for _, p := range bl.order {
		for _, b := range p.backends {
			b.idle.purge(time.Now(), true)
		}
	}
	bl.log.Info("lb stopped")
	return err
}

// Snapshot is the admin view: pools, backend health, affinity-table size.
type Snapshot struct {
	Pools []PoolStatus `json:"pools"`
}

// PoolStatus is one pool in a Snapshot.
type PoolStatus struct {
	Name            string          `json:"name"`
	AffinityEntries int             `json:"affinity_entries"`
	Backends        []BackendStatus `json:"backends"`
}

// BackendStatus is one backend in a Snapshot.
type BackendStatus struct {
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	Provider  string    `json:"provider"`
	Up        bool      `json:"up"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
	Served    uint64    `json:"served"`
}

// Health returns the current state of every pool.
func (bl *Balancer) Health() Snapshot {
	var s Snapshot
	for _, p := range bl.order {
		ps := PoolStatus{Name: p.cfg.Name, AffinityEntries: p.aff.size()}
		for _, b := range p.backends {
			b.mu.Lock()
			ps.Backends = append(ps.Backends, BackendStatus{
				Name: b.Name, Address: b.Address, Provider: b.Provider, Up: b.up.Load(),
				Since: b.changed, LastError: b.lastErr, Served: b.served.Load(),
			})
			b.mu.Unlock()
		}
		s.Pools = append(s.Pools, ps)
	}
	return s
}

// Pinned reports which backend a client address is pinned to in a pool.
func (bl *Balancer) Pinned(poolName string, client netip.Addr) (backendName string, ok bool) {
	p := bl.pools[poolName]
	if p == nil {
		return "", false
	}
	i, ok := p.aff.pinned(p.aff.key(client), time.Now())
	if !ok {
		return "", false
	}
	return p.backends[i].Name, true
}

func (bl *Balancer) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(bl.Health())
	})
	return mux
}
