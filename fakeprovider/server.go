package fakeprovider

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Bind is one address a provider or clearing service listens on. Tenant is
// the tenant whose certificate the listener serves in TLS mode (the seed's
// "without SSL offloading": internal IP A serves ABC's certificate); plain
// HTTP listeners may leave it empty, the tenant is chosen by Host anyway.
type Bind struct {
	Addr   string
	Tenant string
}

// Binds makes plain binds for addresses.
func Binds(addrs ...string) []Bind {
	out := make([]Bind, len(addrs))
	for i, a := range addrs {
		out[i] = Bind{Addr: a}
	}
	return out
}

// Limits of every listener; they bound what a bad client can make us hold.
const (
	maxHeaderBytes    = 16 << 10
	readHeaderTimeout = 5 * time.Second
	idleTimeout       = 60 * time.Second
	closeGrace        = 5 * time.Second
)

// server runs one handler on several listeners and implements the lab's
// faults: Kill (everything gone at once), hang and delay.
type server struct {
	name    string
	log     *slog.Logger
	handler http.Handler
	tlsFor  func(b Bind) (*tls.Config, error) // nil: plain HTTP
	// proxyProtocol requires a PROXY v1/v2 header on every connection.
	proxyProtocol bool

	mu      sync.Mutex
	binds   []Bind // actual addresses of the last Start, for a restart
	running []*http.Server
	life    chan struct{} // closed by Kill/Close: releases hanging handlers
	// killed is cancelled by Kill: handlers still running abandon their
	// database writes and clearing calls, as they would in a crash.
	killed context.Context
	kill   context.CancelFunc
	wg     sync.WaitGroup

	hanging atomic.Int64 // requests waiting in a hang, for tests and the lab

	gateMu sync.Mutex
	hang   chan struct{} // non-nil while hung; closed when unhung
	delay  time.Duration
}

func newServer(name string, log *slog.Logger, h http.Handler) *server {
	s := &server{name: name, log: log, life: make(chan struct{})}
	s.killed, s.kill = context.WithCancel(context.Background())
	s.handler = s.gate(h)
	return s
}

// gate applies hang and delay before the real handler.
func (s *server) gate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.gateMu.Lock()
		hang, delay := s.hang, s.delay
		s.gateMu.Unlock()
		s.mu.Lock()
		life, killed := s.life, s.killed
		s.mu.Unlock()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(killed, cancel)
		defer stop()
		r = r.WithContext(ctx)
		if (hang != nil || delay > 0) && !drainBody(w, r) {
			return
		}
		if hang != nil {
			s.hanging.Add(1)
			defer s.hanging.Add(-1)
			select {
			case <-hang:
			case <-r.Context().Done():
				return
			case <-life:
				panic(http.ErrAbortHandler) // drop the connection without an answer
			}
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-life:
				t.Stop()
				panic(http.ErrAbortHandler)
			}
		}
		h.ServeHTTP(w, r)
	})
}

// maxGateBody bounds the body drainBody holds in memory.
const maxGateBody = 1 << 20

// drainBody reads the request body into memory before a hang or delay. Only
// then does net/http watch the connection and cancel the request's context
// when the client gives up, so a request abandoned by its client is dropped
// instead of being processed after the fault ends (which would clear a
// message the provider already failed over).
func drainBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxGateBody+1))
	if err != nil {
		return false // the client is gone or sent garbage: nothing to answer
	}
	if len(b) > maxGateBody {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return true
}

// SetHang makes every request wait without an answer (true) until unhung,
// the client gives up, or the server is killed or closed. The setting
// survives Kill and Start, like SetDelay: faults are undone explicitly.
func (s *server) SetHang(on bool) {
	s.gateMu.Lock()
	defer s.gateMu.Unlock()
	switch {
	case on && s.hang == nil:
		s.hang = make(chan struct{})
	case !on && s.hang != nil:
		close(s.hang)
		s.hang = nil
	}
}

// SetDelay delays every answer by d (0 turns it off).
func (s *server) SetDelay(d time.Duration) {
	s.gateMu.Lock()
	s.delay = d
	s.gateMu.Unlock()
}

func (s *server) newHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// Start listens on binds (or, with none, on the addresses of the previous
// Start, which makes it the restart after Kill) and serves in the background.
func (s *server) Start(ctx context.Context, binds ...Bind) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.running) > 0 {
		return fmt.Errorf("start %s: already running on %v", s.name, s.binds)
	}
	if len(binds) == 0 {
		binds = s.binds
	}
	if len(binds) == 0 {
		return fmt.Errorf("start %s: no address to listen on", s.name)
	}
	var lc net.ListenConfig
	lns := make([]net.Listener, 0, len(binds))
	actual := make([]Bind, 0, len(binds))
	fail := func(err error) error {
		for _, ln := range lns {
			_ = ln.Close()
		}
		return err
	}
	for _, b := range binds {
		var cfg *tls.Config
		if s.tlsFor != nil {
			c, err := s.tlsFor(b)
			if err != nil {
				return fail(fmt.Errorf("start %s on %s: %w", s.name, b.Addr, err))
			}
			cfg = c
		}
		ln, err := lc.Listen(ctx, "tcp", b.Addr)
		if err != nil {
			return fail(fmt.Errorf("start %s: listen on %s: %w", s.name, b.Addr, err))
		}
		if s.proxyProtocol {
			ln = proxyListener{ln}
		}
		if cfg != nil {
			ln = tls.NewListener(ln, cfg)
		}
		lns = append(lns, ln)
		actual = append(actual, Bind{Addr: ln.Addr().String(), Tenant: b.Tenant})
	}
	s.binds = actual
	s.life = make(chan struct{})
	for _, ln := range lns {
		srv := s.newHTTPServer()
		s.running = append(s.running, srv)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Warn("serve stopped", "server", s.name, "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	s.log.Info("listening", "server", s.name, "binds", actual)
	return nil
}

// Addrs returns the addresses of the last Start (the real ports for ":0").
func (s *server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.binds))
	for i, b := range s.binds {
		out[i] = b.Addr
	}
	return out
}

// Kill closes all listeners and live connections at once, like a crash.
// Start without arguments brings it back on the same addresses.
func (s *server) Kill() {
	s.mu.Lock()
	running := s.running
	s.running = nil
	close(s.life)
	s.life = make(chan struct{})
	s.kill()
	s.killed, s.kill = context.WithCancel(context.Background())
	s.mu.Unlock()
	for _, srv := range running {
		_ = srv.Close()
	}
	s.wg.Wait()
	s.log.Info("killed", "server", s.name)
}

// Close stops gracefully: no new connections, requests in flight may finish
// until ctx ends, hanging requests are dropped; then everything is closed.
func (s *server) Close(ctx context.Context) error {
	s.mu.Lock()
	running := s.running
	s.running = nil
	close(s.life)
	s.life = make(chan struct{})
	s.mu.Unlock()
	var errs []error
	for _, srv := range running {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			_ = srv.Close()
		}
	}
	s.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close %s: %w", s.name, err)
	}
	return nil
}

// Serve serves on ln (already a TLS listener if TLS is wanted) until ctx
// ends, then shuts down gracefully within closeGrace.
func (s *server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.newHTTPServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve %s on %s: %w", s.name, ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeGrace)
	defer cancel()
	s.mu.Lock()
	close(s.life)
	s.life = make(chan struct{})
	s.mu.Unlock()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
	}
	<-done
	if err != nil {
		return fmt.Errorf("shut down %s on %s: %w", s.name, ln.Addr(), err)
	}
	return nil
}
