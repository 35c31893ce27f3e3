// Package links runs the lab's wires as in-process toxiproxy proxies: between
// the balancer and each provider address, each provider and its database, and
// each provider and each clearing service. A fault cuts, resets or slows a
// wire without touching either end.
package links

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
)

// Toxiproxy's bandwidth toxic logs through zerolog's global logger (at
// trace level, on every toxic added or removed): the harness has its own
// log, and nothing else here uses zerolog.
func init() { zlog.Logger = zerolog.Nop() }

// Links is a set of named proxies. The zero value is not usable: call New.
type Links struct {
	server *toxiproxy.ApiServer

	mu      sync.Mutex
	proxies map[string]*toxiproxy.Proxy
}

// New makes an empty set of links.
func New() *Links {
	// Toxiproxy dereferences the metrics container on every link: it must
	// exist even though nothing reads it.
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	return &Links{server: srv, proxies: map[string]*toxiproxy.Proxy{}}
}

// Add starts a proxy named name that listens on listen (host:port, port 0
// picks one) and forwards to upstream. It returns the address it listens on.
func (l *Links) Add(name, listen, upstream string) (string, error) {
	p := toxiproxy.NewProxy(l.server, name, listen, upstream)
	if err := l.server.Collection.Add(p, true); err != nil {
		return "", fmt.Errorf("start link %s (%s -> %s): %w", name, listen, upstream, err)
	}
	l.mu.Lock()
	l.proxies[name] = p
	l.mu.Unlock()
	return p.Listen, nil
}

func (l *Links) get(name string) (*toxiproxy.Proxy, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.proxies[name]
	if !ok {
		return nil, fmt.Errorf("no link named %q (have %s)", name, strings.Join(l.namesLocked(), ", "))
	}
	return p, nil
}

// Names lists the links, sorted.
func (l *Links) Names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.namesLocked()
}

func (l *Links) namesLocked() []string {
	names := make([]string, 0, len(l.proxies))
	for n := range l.proxies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Addr is the address the link listens on.
func (l *Links) Addr(name string) (string, error) {
	p, err := l.get(name)
	if err != nil {
		return "", err
	}
	return p.Listen, nil
}

// Cut refuses new connections and closes live ones, as a pulled cable does.
func (l *Links) Cut(name string) error {
	p, err := l.get(name)
	if err != nil {
		return err
	}
	p.Stop()
	return nil
}

// IsCut reports whether the link is cut now.
func (l *Links) IsCut(name string) (bool, error) {
	p, err := l.get(name)
	if err != nil {
		return false, err
	}
	p.Lock()
	defer p.Unlock()
	return !p.Enabled, nil
}

// Restore reopens a cut link on the same address.
func (l *Links) Restore(name string) error {
	p, err := l.get(name)
	if err != nil {
		return err
	}
	if err := p.Start(); err != nil && err != toxiproxy.ErrProxyAlreadyStarted {
		return fmt.Errorf("restore link %s: %w", name, err)
	}
	return nil
}

// Retarget points a link at a new upstream, as when the server behind it
// came back on another port (a restarted container gets a new host port).
// The link keeps its address, its toxics and whether it is cut; live
// connections to the old upstream are closed.
func (l *Links) Retarget(name, upstream string) error {
	p, err := l.get(name)
	if err != nil {
		return err
	}
	p.Lock()
	listen, enabled, old := p.Listen, p.Enabled, p.Upstream
	p.Unlock()
	if upstream == old {
		return nil
	}
	if err := p.Update(&toxiproxy.Proxy{Listen: listen, Upstream: upstream, Enabled: enabled}); err != nil {
		return fmt.Errorf("retarget link %s (%s -> %s): %w", name, old, upstream, err)
	}
	return nil
}

// Toxic is one toxiproxy toxic (the library's own implementations, run in
// this process): Type is latency (latency, jitter in ms), timeout (timeout
// in ms, 0 = black hole: the stream's bytes vanish and the connection stays
// open), reset_peer (timeout in ms before a TCP reset), bandwidth (rate in
// KB/s), slicer (average_size and size_variation in bytes, delay in µs
// between slices; this package's own, see slicer.go), slow_close or
// limit_data (bytes). Stream is "upstream" (from the side that connects
// to the server behind the link) or "downstream" (back to it; the
// default).
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"` // "upstream" or "downstream"
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// AddToxic adds a toxic to a link; new and live connections get it.
func (l *Links) AddToxic(name string, t Toxic) error {
	p, err := l.get(name)
	if err != nil {
		return err
	}
	if t.Stream == "" {
		t.Stream = "downstream"
	}
	if t.Toxicity == 0 {
		t.Toxicity = 1
	}
	if t.Name == "" {
		t.Name = t.Type + "_" + t.Stream
	}
	if t.Type == "slicer" {
		t.Type = slicerType // see slicer.go
	}
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode toxic %s: %w", t.Name, err)
	}
	if _, err := p.Toxics.AddToxicJson(strings.NewReader(string(body))); err != nil {
		return fmt.Errorf("add toxic %s to link %s: %w", t.Name, name, err)
	}
	return nil
}

// ErrNoToxic is what RemoveToxic wraps when the link has no toxic of that
// name: a fault's Recover after a partial Inject may ignore it.
var ErrNoToxic = errors.New("no such toxic")

// RemoveToxic removes a toxic added with AddToxic.
func (l *Links) RemoveToxic(ctx context.Context, name, toxic string) error {
	p, err := l.get(name)
	if err != nil {
		return err
	}
	if err := p.Toxics.RemoveToxic(ctx, toxic); err != nil {
		if errors.Is(err, toxiproxy.ErrToxicNotFound) {
			err = ErrNoToxic
		}
		return fmt.Errorf("remove toxic %s from link %s: %w", toxic, name, err)
	}
	return nil
}

// State is what is done to one link now.
type State struct {
	Name   string
	Cut    bool     // Cut and not restored
	Toxics []string // names of the toxics on it, sorted
}

// Broken reports whether anything is done to the link.
func (s State) Broken() bool { return s.Cut || len(s.Toxics) > 0 }

// States lists every link's state, sorted by name: what a test reads to
// see that every fault was recovered.
func (l *Links) States() []State {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]State, 0, len(l.proxies))
	for _, name := range l.namesLocked() {
		p := l.proxies[name]
		p.Lock()
		st := State{Name: name, Cut: !p.Enabled}
		p.Unlock()
		for _, t := range p.Toxics.GetToxicArray() {
			if w, ok := t.(*toxics.ToxicWrapper); ok {
				st.Toxics = append(st.Toxics, w.Name)
			}
		}
		sort.Strings(st.Toxics)
		out = append(out, st)
	}
	return out
}

// Close stops every link and closes their connections.
func (l *Links) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, p := range l.proxies {
		p.Stop()
		delete(l.proxies, name)
	}
	_ = l.server.Collection.Clear()
}
