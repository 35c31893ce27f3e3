package harness

import (
	"fmt"
	"net"
	"net/netip"
)

// Plan is the lab's address plan: the seed's example IP plan mapped onto
// loopback. Everything that needs an address reads it from here.
type Plan struct {
	// Clients are the simulated users' source addresses, one per user.
	Clients []netip.Addr
	// Domains are the public names with their public IPs and ports.
	Domains []DomainPlan
	// Providers are the provider appliances with one internal IP per domain.
	Providers []ProviderPlan
	// Clearing are the addresses of the fake clearing services.
	Clearing []netip.Addr
	// Wires is where the lab's toxiproxy links listen, and Database where
	// a process pair's servers do. Not 127.0.0.1: a cut link and a
	// restarted server bind their old port again, and on 127.0.0.1 any
	// outgoing connection may have taken it as its source port meanwhile.
	Wires, Database netip.Addr
}

// DomainPlan is one public name: main provider or sub-provider.
type DomainPlan struct {
	Name     string
	PublicIP netip.Addr
	// HTTPSPort and HTTPPort are the balancer's ports on PublicIP; 0 lets
	// the system choose (parallel test runs cannot share fixed ports).
	HTTPSPort int
	HTTPPort  int
}

// ProviderPlan is one provider appliance.
type ProviderPlan struct {
	ID string
	// Internal maps a domain name to the provider's internal IP for it.
	Internal map[string]netip.Addr
}

// DefaultPlan mirrors the seed: public IP A/B for abc.test/def.test,
// internal IPs A/B on provider 1 and C/D on provider 2, two clearing
// services, and users clients from 127.0.10.1 upwards. Ports are chosen by
// the system unless fixedPorts is true (8443 for https, 8080 for http).
func DefaultPlan(users int, fixedPorts bool) (Plan, error) {
	if users < 1 || users > 250 {
		return Plan{}, fmt.Errorf("users = %d: the lab gives each user its own address in 127.0.10.1-127.0.10.250; choose 1 to 250", users)
	}
	httpsPort, httpPort := 0, 0
	if fixedPorts {
		httpsPort, httpPort = 8443, 8080
	}
	p := Plan{
		Domains: []DomainPlan{
			{Name: "abc.test", PublicIP: netip.MustParseAddr("127.0.1.1"), HTTPSPort: httpsPort, HTTPPort: httpPort},
			{Name: "def.test", PublicIP: netip.MustParseAddr("127.0.1.2"), HTTPSPort: httpsPort, HTTPPort: httpPort},
		},
		Providers: []ProviderPlan{
			{ID: "p1", Internal: map[string]netip.Addr{
				"abc.test": netip.MustParseAddr("127.0.2.1"), // internal IP A
				"def.test": netip.MustParseAddr("127.0.2.2"), // internal IP B
			}},
			{ID: "p2", Internal: map[string]netip.Addr{
				"abc.test": netip.MustParseAddr("127.0.2.3"), // internal IP C
				"def.test": netip.MustParseAddr("127.0.2.4"), // internal IP D
			}},
		},
		Clearing: []netip.Addr{netip.MustParseAddr("127.0.3.1"), netip.MustParseAddr("127.0.3.2")},
		Wires:    netip.MustParseAddr("127.0.4.1"),
		Database: netip.MustParseAddr("127.0.5.1"),
	}
	for i := 1; i <= users; i++ {
		p.Clients = append(p.Clients, netip.AddrFrom4([4]byte{127, 0, 10, byte(i)}))
	}
	return p, nil
}

// DomainNames lists the public names in plan order.
func (p Plan) DomainNames() []string {
	names := make([]string, len(p.Domains))
	for i, d := range p.Domains {
		names[i] = d.Name
	}
	return names
}

// ProviderIDs lists the providers in plan order.
func (p Plan) ProviderIDs() []string {
	ids := make([]string, len(p.Providers))
	for i, pr := range p.Providers {
		ids[i] = pr.ID
	}
	return ids
}

// MaxLane is the highest lane a plan can be moved to: lanes are the second
// octet of 127.0.0.0/8.
const MaxLane = 254

// OnLane moves every address of the plan from 127.0.x.y to 127.lane.x.y,
// so that labs running side by side each have their own addresses (their
// ports are the system's choice anyway). Lane 0 is the plan as it is;
// addresses outside 127.0.0.0/16 are kept.
func (p Plan) OnLane(lane int) (Plan, error) {
	if lane < 0 || lane > MaxLane {
		return Plan{}, fmt.Errorf("lane %d: want 0 to %d (the second octet of a 127.x address)", lane, MaxLane)
	}
	if lane == 0 {
		return p, nil
	}
	move := func(a netip.Addr) netip.Addr { return LaneAddr(a, lane) }
	q := Plan{Clients: make([]netip.Addr, len(p.Clients)), Clearing: make([]netip.Addr, len(p.Clearing)),
		Wires: move(p.Wires), Database: move(p.Database)}
	for i, c := range p.Clients {
		q.Clients[i] = move(c)
	}
	for i, c := range p.Clearing {
		q.Clearing[i] = move(c)
	}
	for _, d := range p.Domains {
		d.PublicIP = move(d.PublicIP)
		q.Domains = append(q.Domains, d)
	}
	for _, pp := range p.Providers {
		in := make(map[string]netip.Addr, len(pp.Internal))
		for name, a := range pp.Internal {
			in[name] = move(a)
		}
		q.Providers = append(q.Providers, ProviderPlan{ID: pp.ID, Internal: in})
	}
	return q, nil
}

// LaneAddr is a on the given lane: 127.0.x.y becomes 127.lane.x.y; any
// other address is returned as it is.
func LaneAddr(a netip.Addr, lane int) netip.Addr {
	if !a.IsValid() || !a.Is4() {
		return a
	}
	b := a.As4()
	if b[0] != 127 || b[1] != 0 {
		return a
	}
	b[1] = byte(lane)
	return netip.AddrFrom4(b)
}

// wiresListen is where a link of the plan listens: Wires, port 0.
func (p Plan) wiresListen() string {
	if !p.Wires.IsValid() {
		return "127.0.0.1:0"
	}
	return net.JoinHostPort(p.Wires.String(), "0")
}
