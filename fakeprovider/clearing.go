package fakeprovider

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Transaction is one clearing the fake clearing service received.
type Transaction struct {
	Clearing string    `json:"clearing"` // the clearing service that recorded it
	Tenant   string    `json:"tenant"`
	ID       string    `json:"id"`
	Provider string    `json:"provider"`
	At       time.Time `json:"at"`
	// Repeat marks a request for a message already cleared: it is
	// answered as cleared and not charged again.
	Repeat bool `json:"repeat,omitempty"`
}

// Clearing is a fake regify clearing service. It records every transaction
// it receives before it answers, so a checker can prove none was lost (a
// stored message without a transaction) or cleared twice (count 2).
//
// Clearing is idempotent per message (tenant and id), as a payment-like
// service must be: a provider that cleared a message and lost the answer
// (its database died before it could note the clearing) may clear it again
// through the other provider; the repeat is recorded (Transaction.Repeat,
// Repeats) but not charged, so Counts stays 1. One service may listen on
// several addresses: the seed's redundant clearing connection is two
// connections to one clearing service.
type Clearing struct {
	id  string
	srv *server
	h   http.Handler

	mu      sync.Mutex
	tx      []Transaction
	counts  map[string]int
	repeats map[string]int
	fail    bool
}

// NewClearing makes a clearing service named id (e.g. "c1").
func NewClearing(id string, logger ...*slog.Logger) *Clearing {
	log := slog.New(slog.DiscardHandler)
	if len(logger) > 0 && logger[0] != nil {
		log = logger[0]
	}
	c := &Clearing{id: id, counts: map[string]int{}, repeats: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /clear", c.clear)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "clearing": id})
	})
	mux.HandleFunc("GET /transactions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Transactions())
	})
	c.h = mux
	c.srv = newServer("clearing "+id, log.With("clearing", id), mux)
	return c
}

func (c *Clearing) clear(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	var req ClearRequest
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		writeJSON(w, status, errBody("body must be JSON {tenant, id, provider}"))
		return
	}
	if !validName(req.ID, maxIDLen) || !validHost(req.Tenant) || req.Tenant == "" || len(req.Provider) > maxUserLen {
		writeJSON(w, http.StatusBadRequest, errBody("tenant must be a host name and id 1–128 printable ASCII characters"))
		return
	}
	if r.Context().Err() != nil {
		return // the provider gave up on this request and failed over: do not record it
	}
	c.mu.Lock()
	if c.fail {
		c.mu.Unlock()
		writeJSON(w, http.StatusServiceUnavailable, errBody("clearing failing (simulated)"))
		return
	}
	key := MessageKey(req.Tenant, req.ID)
	repeat := c.counts[key] > 0
	c.tx = append(c.tx, Transaction{Clearing: c.id, Tenant: req.Tenant, ID: req.ID, Provider: req.Provider, At: time.Now().UTC(), Repeat: repeat})
	if repeat {
		c.repeats[key]++
	} else {
		c.counts[key]++
	}
	n := c.counts[key]
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"clearing": c.id, "key": key, "count": n})
}

// Repeats counts, per message key, the requests for messages already
// cleared (answered as cleared, not charged again).
func (c *Clearing) Repeats() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.repeats))
	for k, v := range c.repeats {
		out[k] = v
	}
	return out
}

// ID is the service's name.
func (c *Clearing) ID() string { return c.id }

// Handler is the service's HTTP handler (without the faults).
func (c *Clearing) Handler() http.Handler { return c.h }

// Counts returns how often each message (MessageKey) was cleared here.
func (c *Clearing) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// Transactions returns every transaction recorded, in arrival order.
func (c *Clearing) Transactions() []Transaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Transaction(nil), c.tx...)
}

// SetFailing makes /clear answer 503 without recording (true) or work again.
func (c *Clearing) SetFailing(on bool) {
	c.mu.Lock()
	c.fail = on
	c.mu.Unlock()
}

// Start listens on addrs (none: the previous ones) and serves in the background.
func (c *Clearing) Start(ctx context.Context, addrs ...string) error {
	return c.srv.Start(ctx, Binds(addrs...)...)
}

// Serve serves on ln until ctx ends, then stops gracefully.
func (c *Clearing) Serve(ctx context.Context, ln net.Listener) error { return c.srv.Serve(ctx, ln) }

// Addrs returns the addresses of the last Start.
func (c *Clearing) Addrs() []string { return c.srv.Addrs() }

// URL is the base URL of the first address, for Config.Clearing.
func (c *Clearing) URL() string {
	a := c.srv.Addrs()
	if len(a) == 0 {
		return ""
	}
	return "http://" + a[0]
}

// Kill closes listeners and live connections at once and drops requests in
// flight, like a crash; Start() with no address restarts it.
func (c *Clearing) Kill() { c.srv.Kill() }

// Close stops gracefully within ctx.
func (c *Clearing) Close(ctx context.Context) error { return c.srv.Close(ctx) }

// SetHang makes the service accept and never answer until unhung.
func (c *Clearing) SetHang(on bool) { c.srv.SetHang(on) }

// Hanging reports how many requests are waiting in a hang right now.
func (c *Clearing) Hanging() int { return int(c.srv.hanging.Load()) }

// SetDelay delays every answer by d.
func (c *Clearing) SetDelay(d time.Duration) { c.srv.SetDelay(d) }
