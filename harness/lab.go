package harness

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/harness/links"
	"github.com/regify-verify/regify-verify/internal/pki"
	"github.com/regify-verify/regify-verify/lb"
)

// Balancer setups of the seed.
const (
	ModeOffload     = "offload"     // TLS ends at the balancer (recommended)
	ModePassthrough = "passthrough" // TLS ends at the providers
)

// Database setups of the lab.
const (
	// DatabaseMemory shares one in-memory store between both providers: a
	// perfectly synchronous database, fast, no containers.
	DatabaseMemory = "memory"
	// DatabasePair gives each provider its own MariaDB master of a
	// master-master pair, as the seed's appliances have.
	DatabasePair = "pair"
)

// BalancerBroken and ProviderBroken switch on deliberately wrong behaviour
// for negative controls; they are the balancer's and provider's own types.
type (
	BalancerBroken = lb.Broken
	ProviderBroken = fakeprovider.Broken
)

// Options says what lab to build.
type Options struct {
	// RunID names everything the lab creates; empty makes one up.
	RunID string
	Plan  Plan
	// Lane moves the plan to 127.lane.x.y (see Plan.OnLane) so that labs
	// running side by side have their own addresses; 0 keeps it.
	Lane int
	// Mode is ModeOffload (default) or ModePassthrough.
	Mode string
	// Database is DatabaseMemory (default) or DatabasePair.
	Database string
	// DB configures the MariaDB pair when Database is DatabasePair.
	DB PairOptions
	// Pairs, when set, lends the lab its MariaDB pair and takes it back at
	// Close (reset to a known state) instead of starting and removing one.
	Pairs *PairPool
	// Providers is ProvidersInProcess (default) or ProvidersProcess: each
	// provider a child process (regify-verify provider), killed and paused
	// by signals. Process providers need the MariaDB pair (their only
	// shared state) and TLS offloading, and run no broken mode.
	Providers string
	// Nodes is NodesInProcess (default) or NodesContainers: the balancer,
	// the providers and the clearing service as containers of Image on
	// Network. Container nodes need the MariaDB pair and TLS offloading,
	// and run no broken provider mode.
	Nodes   string
	Network *LabNetwork
	Image   string
	// Balancer and Provider are the broken modes of the negative controls.
	Balancer BalancerBroken
	Provider ProviderBroken
	// HealthInterval and HealthFall tune the balancer's active checks; the
	// lab's defaults (250 ms, 2) make failover fast enough for short runs.
	HealthInterval time.Duration
	HealthFall     int
	// ClearingTimeout bounds one clearing attempt before the provider fails
	// over to the next clearing connection. Default 500 ms.
	ClearingTimeout time.Duration
	// Password is the test password of every simulated user.
	Password string
	Logger   *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.RunID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.RunID = "rv-" + hex.EncodeToString(b)
	}
	if len(o.Plan.Domains) == 0 {
		p, err := DefaultPlan(8, false)
		if err != nil {
			return o, err
		}
		o.Plan = p
	}
	if o.Lane != 0 {
		p, err := o.Plan.OnLane(o.Lane)
		if err != nil {
			return o, fmt.Errorf("lab plan: %w", err)
		}
		// Moving is idempotent: a moved address is outside 127.0/16.
		o.Plan = p
	}
	if o.DB.Host == "" && o.Plan.Database.IsValid() {
		o.DB.Host = o.Plan.Database.String()
	}
	if o.Mode == "" {
		o.Mode = ModeOffload
	}
	if o.Mode != ModeOffload && o.Mode != ModePassthrough {
		return o, fmt.Errorf("lab mode %q: want %q or %q", o.Mode, ModeOffload, ModePassthrough)
	}
	if o.Database == "" {
		o.Database = DatabaseMemory
	}
	if o.Database != DatabaseMemory && o.Database != DatabasePair {
		return o, fmt.Errorf("lab database %q: want %q or %q", o.Database, DatabaseMemory, DatabasePair)
	}
	switch o.Providers {
	case "":
		o.Providers = ProvidersInProcess
	case ProvidersInProcess:
	case ProvidersProcess:
		switch {
		case o.Database != DatabasePair:
			return o, errors.New("provider processes need the MariaDB pair: it is the only state two processes can share (the memory store lives in one process)")
		case o.Mode != ModeOffload:
			return o, errors.New("provider processes run with TLS offloading only; use in-process providers for passthrough")
		case o.Provider != (ProviderBroken{}):
			return o, errors.New("provider processes run no broken mode; negative controls use in-process providers")
		}
	default:
		return o, fmt.Errorf("lab providers %q: want %q or %q", o.Providers, ProvidersInProcess, ProvidersProcess)
	}
	switch o.Nodes {
	case "":
		o.Nodes = NodesInProcess
	case NodesInProcess:
	case NodesContainers:
		switch {
		case o.Network == nil || o.Image == "":
			return o, errors.New("lab nodes as containers need the run's lab network and the regify-verify image (regify-verify run --nodes containers makes both)")
		case o.Database != DatabasePair:
			return o, errors.New("lab nodes as containers need the MariaDB pair: it is the only state two provider containers can share")
		case o.Mode != ModeOffload:
			return o, errors.New("lab nodes as containers run with TLS offloading only; passthrough runs in process")
		case o.Provider != (ProviderBroken{}):
			return o, errors.New("lab nodes as containers run no broken provider; negative controls with a broken provider run in process")
		}
		// The coordinator's own clients (probes) come from its address
		// on the lab network; agents' from theirs.
		o.Plan.Clients = slices.Clone(o.Plan.Clients)
		for i := range o.Plan.Clients {
			o.Plan.Clients[i] = o.Network.Gateway
		}
	default:
		return o, fmt.Errorf("lab nodes %q: want %q or %q", o.Nodes, NodesInProcess, NodesContainers)
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = 250 * time.Millisecond
	}
	if o.HealthFall == 0 {
		o.HealthFall = 2
	}
	if o.ClearingTimeout == 0 {
		o.ClearingTimeout = 500 * time.Millisecond
	}
	if o.Password == "" {
		o.Password = "regify"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Lab is the whole topology of the seed on one machine: balancer, two
// providers with two internal IPs each, a clearing service reached over two
// connections, the database,
// and a toxiproxy wire between every pair of them.
type Lab struct {
	opts  Options
	log   *slog.Logger
	ca    *pki.CA
	links *links.Links

	// balancer is swapped by RestartBalancer; lbMu guards the pointer,
	// lbCfg is the configuration a restart starts from (ports fixed).
	lbMu      sync.Mutex
	balancer  *lb.Balancer
	lbCfg     lb.Config
	lbStopped bool
	providers map[string]*fakeprovider.Provider
	procs     map[string]*providerProcess // with ProvidersProcess
	binary    string                      // the regify-verify binary procs run
	clearing  []*fakeprovider.Clearing
	pair      *Pair           // nil with DatabaseMemory
	nodes     *containerNodes // with NodesContainers
	memory    *fakeprovider.MemoryStore

	// Endpoints, filled as the lab comes up.
	domains []Endpoint
	// internal maps provider -> domain -> ip:port; a container node's
	// changes when it restarts, under internalMu.
	internalMu   sync.Mutex
	internal     map[string]map[string]string
	clearingAddr []string

	closeOnce sync.Once
	closeErr  error
}

// Endpoint is one public name as clients reach it.
type Endpoint struct {
	Name     string
	PublicIP netip.Addr
	HTTPS    string // https://abc.test:PORT/
	HTTP     string // http://abc.test:PORT/
	HTTPSAt  string // ip:port of the https listener
	HTTPAt   string // ip:port of the http listener
}

// Up builds and starts the lab. It returns only when the balancer sees
// every backend healthy; on error everything already started is stopped.
func Up(ctx context.Context, opts Options) (_ *Lab, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Lab{
		opts:      opts,
		log:       opts.Logger.With("run", opts.RunID),
		links:     links.New(),
		providers: map[string]*fakeprovider.Provider{},
		procs:     map[string]*providerProcess{},
		internal:  map[string]map[string]string{},
	}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = l.Close(cctx)
		}
	}()
	if opts.Providers == ProvidersProcess && opts.Nodes == NodesInProcess {
		if l.binary, err = Binary(); err != nil {
			return nil, err
		}
	}
	if l.ca, err = pki.NewCA("regify-verify lab " + opts.RunID); err != nil {
		return nil, fmt.Errorf("lab certificates: %w", err)
	}
	up := l.upInProcess
	if opts.Nodes == NodesContainers {
		up = l.upContainers
	}
	if err := up(ctx); err != nil {
		return nil, err
	}
	if err := l.waitHealthy(ctx, 20*time.Second); err != nil {
		return nil, err
	}
	l.log.Info("lab up", "mode", opts.Mode, "database", opts.Database, "nodes", opts.Nodes)
	return l, nil
}

// upInProcess brings the clearing service, the database, the providers
// and the balancer up in this process (providers optionally as child
// processes).
func (l *Lab) upInProcess(ctx context.Context) error {
	if err := l.startClearing(ctx); err != nil {
		return err
	}
	if err := l.startDatabase(ctx); err != nil {
		return err
	}
	if err := l.startProviders(ctx); err != nil {
		return err
	}
	return l.startBalancer(ctx)
}

func (l *Lab) startClearing(ctx context.Context) error {
	// One clearing service reached over two connections: the seed's
	// redundant clearing connection.
	c := fakeprovider.NewClearing("clearing")
	var addrs []string
	for _, ip := range l.opts.Plan.Clearing {
		addrs = append(addrs, net.JoinHostPort(ip.String(), "0"))
	}
	if err := c.Start(ctx, addrs...); err != nil {
		return fmt.Errorf("start the clearing service: %w", err)
	}
	l.clearing = append(l.clearing, c)
	l.clearingAddr = c.Addrs()
	return nil
}

func (l *Lab) startDatabase(ctx context.Context) error {
	if l.opts.Database == DatabaseMemory {
		l.memory = fakeprovider.NewMemoryStore()
		return nil
	}
	var pair *Pair
	var err error
	if l.opts.Pairs != nil {
		pair, err = l.opts.Pairs.Get(ctx, l.opts.DB, l.log)
	} else {
		pair, err = StartPair(ctx, l.opts.DB, l.log)
	}
	if err != nil {
		return err
	}
	l.pair = pair
	pair.started = l.followDatabase
	return nil
}

// followDatabase re-points the database links of the providers on side at
// the address that side's server has after a restart.
func (l *Lab) followDatabase(side, addr string) error {
	for i, pp := range l.opts.Plan.Providers {
		if sideOf(i) != side {
			continue
		}
		if err := l.links.Retarget(databaseLink(pp.ID), addr); err != nil {
			return fmt.Errorf("follow restarted database %s: %w", side, err)
		}
	}
	return nil
}

// sideOf maps providers to database sides: p1 uses master a, p2 master b.
func sideOf(i int) string {
	if i%2 == 0 {
		return "a"
	}
	return "b"
}

func (l *Lab) startProviders(ctx context.Context) error {
	for i, pp := range l.opts.Plan.Providers {
		var clearing []string
		for j, addr := range l.clearingAddr {
			link := clearingLink(pp.ID, j)
			at, err := l.links.Add(link, l.wiresListen(), addr)
			if err != nil {
				return err
			}
			clearing = append(clearing, "http://"+at)
		}
		if l.opts.Providers == ProvidersProcess {
			if err := l.startProviderProcess(ctx, i, pp, clearing); err != nil {
				return err
			}
			continue
		}
		store, err := l.storeFor(ctx, i, pp.ID)
		if err != nil {
			return err
		}
		cfg := fakeprovider.Config{
			ID:              pp.ID,
			Tenants:         l.opts.Plan.DomainNames(),
			Password:        l.opts.Password,
			Store:           store,
			Clearing:        clearing,
			ClearingTimeout: l.opts.ClearingTimeout,
			ShowSeen:        true,
			Broken:          l.opts.Provider,
			Logger:          l.log.With("provider", pp.ID),
		}
		if l.opts.Mode == ModePassthrough {
			cfg.ProxyProtocol = true // the balancer sends PROXY v2
			cfg.TLS = map[string]tls.Certificate{}
			for _, d := range l.opts.Plan.Domains {
				leaf, err := l.leafFor(d.Name)
				if err != nil {
					return err
				}
				cfg.TLS[d.Name] = leaf.TLS
			}
		}
		p, err := fakeprovider.New(cfg)
		if err != nil {
			return fmt.Errorf("configure provider %s: %w", pp.ID, err)
		}
		var binds []fakeprovider.Bind
		for _, d := range l.opts.Plan.Domains {
			ip, ok := pp.Internal[d.Name]
			if !ok {
				return fmt.Errorf("address plan: provider %s has no internal IP for %s", pp.ID, d.Name)
			}
			binds = append(binds, fakeprovider.Bind{Addr: net.JoinHostPort(ip.String(), "0"), Tenant: d.Name})
		}
		if err := p.Start(ctx, binds...); err != nil {
			return fmt.Errorf("start provider %s: %w", pp.ID, err)
		}
		l.providers[pp.ID] = p
		l.internal[pp.ID] = map[string]string{}
		for k, addr := range p.Addrs() {
			l.internal[pp.ID][l.opts.Plan.Domains[k].Name] = addr
		}
	}
	return nil
}

// startProviderProcess starts provider pp as a child process on its
// master (through its database link) and its clearing links.
func (l *Lab) startProviderProcess(ctx context.Context, i int, pp ProviderPlan, clearing []string) error {
	dsn, err := l.databaseDSN(ctx, i, pp.ID)
	if err != nil {
		return err
	}
	proc := &providerProcess{id: pp.ID, binary: l.binary, log: l.log,
		args: providerArgs(pp.ID, l.opts.Plan.DomainNames(), l.opts.Password, dsn, clearing, l.opts.ClearingTimeout)}
	for _, d := range l.opts.Plan.Domains {
		ip, ok := pp.Internal[d.Name]
		if !ok {
			return fmt.Errorf("address plan: provider %s has no internal IP for %s", pp.ID, d.Name)
		}
		proc.listen = append(proc.listen, listenArg(ip.String(), d.Name))
	}
	l.procs[pp.ID] = proc
	if err := proc.start(ctx); err != nil {
		return err
	}
	l.internal[pp.ID] = map[string]string{}
	for k, addr := range proc.addrs {
		l.internal[pp.ID][l.opts.Plan.Domains[k].Name] = addr
	}
	return nil
}

func (l *Lab) storeFor(ctx context.Context, i int, id string) (fakeprovider.Store, error) {
	if l.memory != nil {
		return l.memory, nil
	}
	dsn, err := l.databaseDSN(ctx, i, id)
	if err != nil {
		return nil, err
	}
	store, err := fakeprovider.NewMySQLStore(ctx, dsn, l.log.With("provider", id, "database", sideOf(i)))
	if err != nil {
		return nil, fmt.Errorf("connect provider %s to database %s: %w", id, sideOf(i), err)
	}
	return store, nil
}

// databaseDSN wires provider id (the i-th) to its master through a link
// of its own and returns the DSN that goes through it.
func (l *Lab) databaseDSN(ctx context.Context, i int, id string) (string, error) {
	upstream, err := l.pair.HostAddr(ctx, sideOf(i))
	if err != nil {
		return "", err
	}
	at, err := l.links.Add(databaseLink(id), l.wiresListen(), upstream)
	if err != nil {
		return "", err
	}
	return l.pair.AppDSN(at), nil
}

func (l *Lab) leafFor(domain string) (*pki.Leaf, error) {
	var ips []net.IP
	for _, d := range l.opts.Plan.Domains {
		if d.Name == domain {
			ips = append(ips, d.PublicIP.AsSlice())
		}
	}
	for _, p := range l.opts.Plan.Providers {
		if ip, ok := p.Internal[domain]; ok {
			ips = append(ips, ip.AsSlice())
		}
	}
	leaf, err := l.ca.Issue([]string{domain}, ips, 7*24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("certificate for %s: %w", domain, err)
	}
	return leaf, nil
}

// balancerBase is the balancer's configuration without listeners, pools
// and certificates: what every lab balancer has.
func (l *Lab) balancerBase() lb.Config {
	return lb.Config{
		BackendHeader: "X-Regify-Backend",
		HealthCheck: lb.HealthCheck{
			Interval: l.opts.HealthInterval,
			// Twice the interval: a busy 2-core machine can hold a healthy
			// provider's answer for a few hundred milliseconds.
			Timeout: 2 * l.opts.HealthInterval,
			Rise:    2,
			Fall:    l.opts.HealthFall,
		},
		Timeouts: lb.Timeouts{Connect: time.Second, Backend: 5 * time.Second},
		Broken:   l.opts.Balancer,
	}
}

// balancerPool is domain's pool: every provider through a wire of its
// own from the balancer.
func (l *Lab) balancerPool(domain string) (lb.Pool, error) {
	pool := lb.Pool{Name: domain, Host: domain}
	for _, pp := range l.opts.Plan.Providers {
		at, err := l.links.Add(balancerLink(pp.ID, domain), l.wiresListen(), l.Internal()[pp.ID][domain])
		if err != nil {
			return pool, err
		}
		pool.Backends = append(pool.Backends, lb.Backend{Name: pp.ID + "-" + domain, Address: at, Provider: pp.ID})
	}
	return pool, nil
}

func (l *Lab) startBalancer(ctx context.Context) error {
	cfg := l.balancerBase()
	// The public ports are opened here and handed to the balancer still
	// open: the redirect must name the https port before the balancer
	// starts, and a port picked and released could be taken meanwhile
	// (seen once in 165 scenario runs: a bind "address already in use").
	var reserved []net.Listener
	handedOver := false
	defer func() {
		if !handedOver {
			for _, ln := range reserved {
				ln.Close()
			}
		}
	}()
	for i := range l.opts.Plan.Domains {
		d := &l.opts.Plan.Domains[i]
		https, http, err := openPorts(d)
		if err != nil {
			return err
		}
		reserved = append(reserved, https, http)
		leaf, err := l.leafFor(d.Name)
		if err != nil {
			return err
		}
		cert := leaf.TLS
		cfg.Certificates = append(cfg.Certificates, lb.Certificate{Names: []string{d.Name}, TLS: &cert})
		pool, err := l.balancerPool(d.Name)
		if err != nil {
			return err
		}
		cfg.Pools = append(cfg.Pools, pool)
		main := lb.Listener{Name: d.Name + "-https", Mode: lb.ModeHTTPS, Address: hostPort(d.PublicIP, d.HTTPSPort), Pool: d.Name, Host: d.Name, Open: https}
		if l.opts.Mode == ModePassthrough {
			main.Mode = lb.ModePassthrough
			main.ProxyProtocol = 2
		}
		cfg.Listeners = append(cfg.Listeners,
			main,
			lb.Listener{Name: d.Name + "-http", Mode: lb.ModeRedirect, Address: hostPort(d.PublicIP, d.HTTPPort), Pool: d.Name, Host: d.Name, RedirectPort: d.HTTPSPort, Open: http},
		)
	}
	b, err := lb.New(cfg, l.log.With("component", "lb"))
	if err != nil {
		return fmt.Errorf("configure balancer: %w", err)
	}
	handedOver = true // Start owns the open listeners, also when it fails
	if err := b.Start(ctx); err != nil {
		return fmt.Errorf("start balancer: %w", err)
	}
	// A restart listens again on the ports chosen now.
	l.lbCfg = cfg
	l.lbCfg.Listeners = slices.Clone(cfg.Listeners)
	for i := range l.lbCfg.Listeners {
		l.lbCfg.Listeners[i].Open = nil
	}
	l.balancer = b
	for _, d := range l.opts.Plan.Domains {
		e := Endpoint{Name: d.Name, PublicIP: d.PublicIP, HTTPSAt: b.Addr(d.Name + "-https").String(), HTTPAt: b.Addr(d.Name + "-http").String()}
		e.HTTPS = "https://" + net.JoinHostPort(d.Name, portOf(e.HTTPSAt)) + "/"
		e.HTTP = "http://" + net.JoinHostPort(d.Name, portOf(e.HTTPAt)) + "/"
		l.domains = append(l.domains, e)
	}
	return nil
}

// openPorts listens on a domain's https and http ports (0: the system
// picks one, written back into the plan) and returns the listeners open.
func openPorts(d *DomainPlan) (https, http net.Listener, err error) {
	var lns []net.Listener
	for _, port := range []*int{&d.HTTPSPort, &d.HTTPPort} {
		ln, err := net.Listen("tcp", hostPort(d.PublicIP, *port))
		if err != nil {
			for _, o := range lns {
				o.Close()
			}
			return nil, nil, fmt.Errorf("listen on public IP %s port %d for %s: %w", d.PublicIP, *port, d.Name, err)
		}
		*port = ln.Addr().(*net.TCPAddr).Port
		lns = append(lns, ln)
	}
	return lns[0], lns[1], nil
}

func hostPort(ip netip.Addr, port int) string {
	return net.JoinHostPort(ip.String(), strconv.Itoa(port))
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return p
}

// waitHealthy waits until the balancer sees every backend up.
func (l *Lab) waitHealthy(ctx context.Context, bound time.Duration) error {
	if down := l.WaitBackendsUp(ctx, bound); len(down) > 0 {
		return fmt.Errorf("lab: backends %v never became healthy within %s (is something else bound to 127.0.2.x?)", down, bound)
	}
	return nil
}

// WaitBackendsUp waits, up to bound, until the balancer has every backend
// in service, and returns those still out when it gives up.
func (l *Lab) WaitBackendsUp(ctx context.Context, bound time.Duration) []string {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		down := l.downBackends(ctx)
		if len(down) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return down
		case <-t.C:
		}
	}
}

// downBackends names the backends the balancer has out of service now.
func (l *Lab) downBackends(ctx context.Context) []string {
	var down []string
	for _, p := range l.health(ctx).Pools {
		for _, b := range p.Backends {
			if !b.Up {
				down = append(down, b.Name)
			}
		}
	}
	return down
}

// Close stops everything the lab started. It is safe to call twice.
func (l *Lab) Close(ctx context.Context) error {
	l.closeOnce.Do(func() {
		var errs []error
		took := map[string]time.Duration{}
		step := func(name string, f func()) {
			start := time.Now()
			f()
			took[name] = time.Since(start).Round(time.Millisecond)
		}
		step("nodes", func() {
			errs = append(errs, l.nodes.close(ctx))
		})
		step("balancer", func() {
			if b := l.lb(); b != nil {
				errs = append(errs, b.Shutdown(ctx))
			}
		})
		step("providers", func() {
			for id, p := range l.providers {
				if err := p.Close(ctx); err != nil {
					errs = append(errs, fmt.Errorf("close provider %s: %w", id, err))
				}
			}
			for _, p := range l.procs {
				errs = append(errs, p.stop(ctx))
			}
		})
		step("clearing", func() {
			for _, c := range l.clearing {
				errs = append(errs, c.Close(ctx))
			}
			l.links.Close()
		})
		step("database", func() {
			switch {
			case l.pair != nil && l.opts.Pairs != nil:
				errs = append(errs, l.opts.Pairs.Put(ctx, l.pair))
			case l.pair != nil:
				errs = append(errs, l.pair.Close(ctx))
			}
		})
		l.log.Debug("lab down", "took", took)
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// RunID names the lab's resources.
func (l *Lab) RunID() string { return l.opts.RunID }

// Options are the options the lab was built with, defaults filled in.
func (l *Lab) Options() Options { return l.opts }

// Endpoints are the public names with the addresses clients use.
func (l *Lab) Endpoints() []Endpoint { return append([]Endpoint(nil), l.domains...) }

// Roots trusts the lab's CA, and nothing else.
func (l *Lab) Roots() *x509.CertPool { return l.ca.Pool() }

// CAPEM is the lab's CA certificate, for clients outside the process.
func (l *Lab) CAPEM() []byte { return append([]byte(nil), l.ca.PEM...) }

// Internal maps provider -> domain -> the provider's internal ip:port.
func (l *Lab) Internal() map[string]map[string]string {
	l.internalMu.Lock()
	defer l.internalMu.Unlock()
	out := make(map[string]map[string]string, len(l.internal))
	for id, m := range l.internal {
		out[id] = maps.Clone(m)
	}
	return out
}

// ClearingAddrs are the clearing service's addresses, one per connection.
func (l *Lab) ClearingAddrs() []string { return append([]string(nil), l.clearingAddr...) }

// Cleared says how often each message was charged by the clearing service;
// keys are fakeprovider.MessageKey(tenant, id).
func (l *Lab) Cleared(ctx context.Context) (map[string]int, error) {
	if l.nodes != nil {
		return l.clearedByContainer(ctx)
	}
	out := map[string]int{}
	for _, c := range l.clearing {
		for k, n := range c.Counts() {
			out[k] += n
		}
	}
	return out, nil
}

// Pair is the MariaDB pair, or nil when the lab runs on the memory store.
func (l *Lab) Pair() *Pair { return l.pair }

// BalancerSnapshot is what the balancer's admin endpoint would show.
func (l *Lab) BalancerSnapshot(ctx context.Context) lb.Snapshot { return l.health(ctx) }

// health is the balancer's view of its backends: the in-process
// balancer's, or what a balancer container's admin endpoint says (every
// backend down while it cannot be read: a stopped or frozen balancer
// serves nobody).
func (l *Lab) health(ctx context.Context) lb.Snapshot {
	if l.nodes == nil {
		return l.lb().Health()
	}
	s, err := l.adminSnapshot(ctx, l.nodes.balancer.addr())
	if err != nil {
		l.log.Debug("balancer admin endpoint", "err", err)
		return lb.Snapshot{Pools: []lb.PoolStatus{{Name: "(balancer unreachable)", Backends: []lb.BackendStatus{{Name: "balancer", LastError: err.Error()}}}}}
	}
	return s
}

// WaitProvider waits until the balancer sees every backend of a provider
// up (or, with up false, down), for at most bound.
func (l *Lab) WaitProvider(ctx context.Context, id string, up bool, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		// Done when the balancer lists the provider's backends, every one
		// as wanted (an unreadable balancer lists none: not done).
		seen, done := 0, true
		for _, p := range l.health(ctx).Pools {
			for _, b := range p.Backends {
				if b.Provider == id {
					seen++
					done = done && b.Up == up
				}
			}
		}
		if seen > 0 && done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("balancer never saw provider %s up=%v within %s: %w", id, up, bound, ctx.Err())
		case <-t.C:
		}
	}
}

func balancerLink(provider, domain string) string { return "lb-" + provider + "-" + domain }
func databaseLink(provider string) string         { return "db-" + provider }
func clearingLink(provider string, i int) string  { return fmt.Sprintf("clear-%s-%d", provider, i+1) }
