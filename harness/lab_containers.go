package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/moby/moby/client"
	"go.yaml.in/yaml/v3"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
	"github.com/regify-verify/regify-verify/lb"
)

// Where the lab's nodes run.
const (
	// NodesInProcess runs the balancer, the providers and the clearing
	// service inside this process (providers optionally as child
	// processes, Options.Providers): the default, the fastest.
	NodesInProcess = "inprocess"
	// NodesContainers runs each of them as a container of the
	// regify-verify image on the run's lab network (Options.Network), so
	// that load agents beside them (containers on the same network) are
	// seen by the balancer with their own addresses, a provider crash is
	// a SIGKILL of its process and a pause a freeze of its container.
	// The wires (toxiproxy) stay in this process, listening on the
	// network's gateway address; the MariaDB pair is the one the lab
	// gets as usual.
	NodesContainers = "containers"
)

// The ports lab nodes listen on inside their containers (each container
// has an address of its own). Domain k of the plan is served on the
// provider's port providerPort+k and the balancer's httpsPort+k and
// httpPort+k.
const (
	providerPort = 8001
	clearingPort = 9101 // one port per clearing connection, from here
	httpsPort    = 8443
	httpPort     = 8080
	adminPort    = 9000
)

// containerNodes are the lab's nodes as containers.
type containerNodes struct {
	cli       *client.Client
	run       *cleanup.Run
	balancer  *containerNode
	providers map[string]*containerNode
	clearing  *containerNode
	dir       string // the balancer's configuration and certificates
	// cutByCrash are the balancer's wires a provider crash cut, for its
	// restart to mend (crashProviderContainer).
	cutByCrash map[string]bool
}

// labels are the labels of a container of the lab: the run's (a sweep
// removes it after a killed run) and its role.
func (c *containerNodes) labels(role string) map[string]string {
	l := c.run.Labels()
	l[images.OwnLabel] = "lab-" + role
	return l
}

// upContainers brings the clearing service up as a container, then the
// database (as any lab gets it), then the providers and the balancer as
// containers.
func (l *Lab) upContainers(ctx context.Context) error {
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		return fmt.Errorf("lab nodes as containers: %w", err)
	}
	run := cleanup.RunOf(l.opts.RunID)
	l.nodes = &containerNodes{cli: cli, run: run, providers: map[string]*containerNode{}, cutByCrash: map[string]bool{}}
	if err := l.startClearingContainer(ctx); err != nil {
		return err
	}
	if err := l.startDatabase(ctx); err != nil {
		return err
	}
	for i, pp := range l.opts.Plan.Providers {
		if err := l.startProviderContainer(ctx, i, pp); err != nil {
			return err
		}
	}
	return l.startBalancerContainer(ctx)
}

func (l *Lab) nodeSpec(role string, args []string, ready func(context.Context, netip.Addr) error) nodeSpec {
	return nodeSpec{Role: role, Name: l.nodes.run.Name(role), Image: l.opts.Image, Args: args,
		Network: l.opts.Network.Name, Labels: l.nodes.labels(role), Ready: ready}
}

// startClearingContainer starts the clearing service, one port per
// clearing connection of the plan. It starts first: a swarm-scoped lab
// network gets its gateway address on this machine, where the wires
// listen, with its first container.
func (l *Lab) startClearingContainer(ctx context.Context) error {
	args := []string{"clearing", "--id", "clearing"}
	var ports []int
	for k := range l.opts.Plan.Clearing {
		ports = append(ports, clearingPort+k)
		args = append(args, "--listen", ":"+strconv.Itoa(clearingPort+k))
	}
	n, err := startNode(ctx, l.nodes.cli, l.nodeSpec("clearing", args, tcpReady(ports...)))
	l.nodes.clearing = n
	if err != nil {
		return err
	}
	for _, p := range ports {
		l.clearingAddr = append(l.clearingAddr, netip.AddrPortFrom(n.addr(), uint16(p)).String())
	}
	return nil
}

// startProviderContainer starts provider pp (the i-th) on its master and
// the clearing service, each through a wire of its own.
func (l *Lab) startProviderContainer(ctx context.Context, i int, pp ProviderPlan) error {
	var clearing []string
	for j, addr := range l.clearingAddr {
		at, err := l.links.Add(clearingLink(pp.ID, j), l.wiresListen(), addr)
		if err != nil {
			return err
		}
		clearing = append(clearing, "http://"+at)
	}
	dsn, err := l.databaseDSN(ctx, i, pp.ID)
	if err != nil {
		return err
	}
	args := append([]string{"provider"}, providerArgs(pp.ID, l.opts.Plan.DomainNames(), l.opts.Password, dsn, clearing, l.opts.ClearingTimeout)...)
	var ports []int
	for k, d := range l.opts.Plan.Domains {
		ports = append(ports, providerPort+k)
		args = append(args, "--listen", ":"+strconv.Itoa(providerPort+k)+"="+d.Name)
	}
	n, err := startNode(ctx, l.nodes.cli, l.nodeSpec(pp.ID, args, tcpReady(ports...)))
	if n != nil {
		l.nodes.providers[pp.ID] = n
	}
	if err != nil {
		return err
	}
	l.noteProviderAddr(pp.ID, n.addr())
	return nil
}

// noteProviderAddr records provider id's internal addresses at ip.
func (l *Lab) noteProviderAddr(id string, ip netip.Addr) {
	l.internalMu.Lock()
	defer l.internalMu.Unlock()
	m := map[string]string{}
	for k, d := range l.opts.Plan.Domains {
		m[d.Name] = netip.AddrPortFrom(ip, uint16(providerPort+k)).String()
	}
	l.internal[id] = m
}

// wiresListen is the address the lab's wires listen on: the lab network's
// gateway for container nodes, else the plan's.
func (l *Lab) wiresListen() string {
	if l.nodes != nil {
		return net.JoinHostPort(l.opts.Network.Gateway.String(), "0")
	}
	return l.opts.Plan.wiresListen()
}

// balancerConfig is the balancer's configuration for container nodes:
// every domain on the container's address with ports of its own, the
// backends through the wires, certificates as files under dir (where the
// container sees the directory). files are those files' contents by name.
func (l *Lab) balancerConfig(dir string) (cfg lb.Config, files map[string][]byte, err error) {
	cfg = l.balancerBase()
	cfg.Admin = "0.0.0.0:" + strconv.Itoa(adminPort)
	files = map[string][]byte{}
	for k, d := range l.opts.Plan.Domains {
		leaf, err := l.leafFor(d.Name)
		if err != nil {
			return cfg, nil, err
		}
		files[d.Name+".crt"], files[d.Name+".key"] = leaf.CertPEM, leaf.KeyPEM
		cfg.Certificates = append(cfg.Certificates, lb.Certificate{Names: []string{d.Name},
			CertFile: dir + "/" + d.Name + ".crt", KeyFile: dir + "/" + d.Name + ".key"})
		pool, err := l.balancerPool(d.Name)
		if err != nil {
			return cfg, nil, err
		}
		cfg.Pools = append(cfg.Pools, pool)
		cfg.Listeners = append(cfg.Listeners,
			lb.Listener{Name: d.Name + "-https", Mode: lb.ModeHTTPS, Address: "0.0.0.0:" + strconv.Itoa(httpsPort+k), Pool: d.Name, Host: d.Name},
			lb.Listener{Name: d.Name + "-http", Mode: lb.ModeRedirect, Address: "0.0.0.0:" + strconv.Itoa(httpPort+k), Pool: d.Name, Host: d.Name, RedirectPort: httpsPort + k},
		)
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return cfg, nil, fmt.Errorf("write the balancer's configuration: %w", err)
	}
	files["lb.yaml"] = b
	return cfg, files, nil
}

// balancerDir is where the balancer container finds its configuration.
const balancerDir = "/etc/regify-verify"

func (l *Lab) startBalancerContainer(ctx context.Context) error {
	dir, err := l.nodes.run.TempDir("lb")
	if err != nil {
		return err
	}
	// The container's user (root of its own) must read the key: the
	// directory is this run's own temporary one.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("balancer configuration directory: %w", err)
	}
	l.nodes.dir = dir
	_, files, err := l.balancerConfig(balancerDir)
	if err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write the balancer's %s: %w", name, err)
		}
	}
	spec := l.nodeSpec("lb", []string{"lb", "--config", balancerDir + "/lb.yaml", "--drain", "1s"}, l.balancerReady)
	spec.Binds = []string{dir + ":" + balancerDir + ":ro"}
	n, err := startNode(ctx, l.nodes.cli, spec)
	l.nodes.balancer = n
	if err != nil {
		return err
	}
	l.noteBalancerAddr(n.addr())
	return nil
}

// balancerReady says whether the balancer container's admin endpoint
// answers.
func (l *Lab) balancerReady(ctx context.Context, ip netip.Addr) error {
	_, err := l.adminSnapshot(ctx, ip)
	return err
}

// noteBalancerAddr records the public endpoints at the balancer's address.
func (l *Lab) noteBalancerAddr(ip netip.Addr) {
	l.domains = nil
	for k, d := range l.opts.Plan.Domains {
		d.PublicIP, d.HTTPSPort, d.HTTPPort = ip, httpsPort+k, httpPort+k
		l.opts.Plan.Domains[k] = d
		e := Endpoint{Name: d.Name, PublicIP: ip, HTTPSAt: hostPort(ip, d.HTTPSPort), HTTPAt: hostPort(ip, d.HTTPPort)}
		e.HTTPS = "https://" + net.JoinHostPort(d.Name, strconv.Itoa(d.HTTPSPort)) + "/"
		e.HTTP = "http://" + net.JoinHostPort(d.Name, strconv.Itoa(d.HTTPPort)) + "/"
		l.domains = append(l.domains, e)
	}
}

// adminSnapshot reads the balancer container's admin endpoint.
func (l *Lab) adminSnapshot(ctx context.Context, ip netip.Addr) (lb.Snapshot, error) {
	var s lb.Snapshot
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostPort(ip, adminPort)+"/", nil)
	if err != nil {
		return s, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, fmt.Errorf("read the balancer's admin endpoint: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("the balancer's admin endpoint answered %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("decode the balancer's admin endpoint: %w", err)
	}
	return s, nil
}

// clearedByContainer counts the clearing container's charged
// transactions per message (MessageKey), as Clearing.Counts does.
func (l *Lab) clearedByContainer(ctx context.Context) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+l.clearingAddr[0]+"/transactions", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the clearing container's transactions: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read the clearing container's transactions: %s", resp.Status)
	}
	var txs []fakeprovider.Transaction
	if err := json.NewDecoder(resp.Body).Decode(&txs); err != nil {
		return nil, fmt.Errorf("decode the clearing container's transactions: %w", err)
	}
	out := map[string]int{}
	for _, t := range txs {
		if !t.Repeat {
			out[fakeprovider.MessageKey(t.Tenant, t.ID)]++
		}
	}
	return out, nil
}

// closeContainers removes every node container.
func (c *containerNodes) close(ctx context.Context) error {
	if c == nil {
		return nil
	}
	var errs []error
	errs = append(errs, c.balancer.remove(ctx))
	for _, p := range c.providers {
		errs = append(errs, p.remove(ctx))
	}
	errs = append(errs, c.clearing.remove(ctx))
	if c.dir != "" {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	errs = append(errs, c.cli.Close())
	return errors.Join(errs...)
}

// provider is the container of provider id.
func (c *containerNodes) provider(id string) (*containerNode, error) {
	n, ok := c.providers[id]
	if !ok {
		return nil, fmt.Errorf("provider %s: %w", id, errNoNode)
	}
	return n, nil
}
