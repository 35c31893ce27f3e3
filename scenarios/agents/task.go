// Package agents splits a scenario's load over several agents — processes
// that each run a share of the simulated users with the same load engine
// (scenarios/load) and stream every request back — and merges what they
// send into the scenario's one history, so the invariants judge the whole
// load as users felt it. Agent clocks are compared with the coordinator's
// at the start and the end of the load; request times are moved onto the
// coordinator's clock and the bound of that correction is reported.
//
// The wire is JSON lines both ways: the coordinator writes the agent its
// Task, then "clock" (answered with the agent's time) and "go"; the agent
// writes every request as it finishes, then "done". An engine says where
// agents run and how the lines travel (Local: child processes over their
// standard input and output).
package agents

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Task is one agent's share of a load, as the coordinator hands it over.
type Task struct {
	Agent string `json:"agent"` // "a1", "a2", …
	// FirstUser and Users are the share: users FirstUser+1 … FirstUser+Users
	// of AllUsers.
	FirstUser int `json:"first_user"`
	Users     int `json:"users"`
	AllUsers  int `json:"all_users"`
	// SourceIPs are the share's users' source addresses, one per user.
	SourceIPs []string `json:"source_ips"`
	// OwnAddress sends every user's requests from the agent's own
	// address towards the balancer instead of SourceIPs: an agent in a
	// container on the lab network, which has one address and is seen by
	// it (lab nodes as containers).
	OwnAddress bool             `json:"own_address,omitempty"`
	Domains    []history.Domain `json:"domains"`
	Password   string           `json:"password"`
	// CAPEM is the trust roots, PEM.
	CAPEM string `json:"ca_pem"`
	// Mix and Paths are the load's request mix (a deployment's is read
	// only unless its operator allowed writes) and the provider contract's
	// paths as the deployment names them.
	Mix      load.Mix      `json:"mix"`
	Paths    load.Paths    `json:"paths"`
	Rate     int           `json:"rate"` // the share of the requests per second
	Duration time.Duration `json:"duration_ns"`
	Timeout  time.Duration `json:"timeout_ns"`
	Seed     int64         `json:"seed"`
}

// Split divides cfg's users into n shares as even as can be (the first
// shares one user more), each with its share of the rate; caPEM is cfg's
// trust roots as PEM (a pool cannot be written out). A load with its own
// session flow is refused: agents follow the provider contract's flow in
// this version.
func Split(cfg load.Config, caPEM []byte, n int) ([]Task, error) {
	switch {
	case n < 1:
		return nil, fmt.Errorf("agents: %d agents: want at least 1", n)
	case n > cfg.Users:
		return nil, fmt.Errorf("agents: %d agents for %d users: every agent needs at least one user (lower --agents or raise --users)", n, cfg.Users)
	case cfg.Flow != nil && !cfg.Flow.Contract:
		return nil, errors.New("agents: a deployment's own session flow cannot be handed to agents yet; run without --agents")
	case cfg.Dial != nil:
		return nil, errors.New("agents: the load dials through a dialer of its own, which cannot be handed to agents; run without --agents")
	case len(caPEM) == 0:
		return nil, errors.New("agents: no trust roots to hand over")
	case len(cfg.SourceIPs) < cfg.Users:
		return nil, fmt.Errorf("agents: %d source IPs for %d users", len(cfg.SourceIPs), cfg.Users)
	}
	tasks := make([]Task, n)
	first := 0
	given := 0
	for k := range tasks {
		users := cfg.Users / n
		if k < cfg.Users%n {
			users++
		}
		// Rates rounded so that the shares add up to the whole.
		rate := cfg.Rate * (first + users) / cfg.Users
		share := rate - given
		if cfg.Rate > 0 && share < 1 {
			share = 1 // 0 would mean unpaced
		}
		t := Task{
			Agent: fmt.Sprintf("a%d", k+1), FirstUser: first, Users: users, AllUsers: cfg.Users,
			Domains: cfg.Domains, Password: cfg.Password, CAPEM: string(caPEM), Mix: cfg.Mix, Paths: cfg.Paths,
			Rate: share, Duration: cfg.Duration, Timeout: cfg.Timeout, Seed: cfg.Seed,
		}
		for _, ip := range cfg.SourceIPs[first : first+users] {
			t.SourceIPs = append(t.SourceIPs, ip.String())
		}
		given = rate
		first += users
		tasks[k] = t
	}
	return tasks, nil
}

// Load is the task as the load engine's configuration.
func (t Task) Load() (load.Config, error) {
	ca := x509.NewCertPool()
	if !ca.AppendCertsFromPEM([]byte(t.CAPEM)) {
		return load.Config{}, fmt.Errorf("agent %s: the task's trust roots hold no certificate", t.Agent)
	}
	cfg := load.Config{
		Users: t.Users, FirstUser: t.FirstUser, AllUsers: t.AllUsers, Domains: t.Domains,
		Password: t.Password, CA: ca, Rate: t.Rate, Duration: t.Duration, Timeout: t.Timeout, Seed: t.Seed,
		Mix: t.Mix, Paths: t.Paths,
	}
	if t.OwnAddress {
		a, err := ownAddress(t.Domains)
		if err != nil {
			return load.Config{}, fmt.Errorf("agent %s: %w", t.Agent, err)
		}
		for range t.Users {
			cfg.SourceIPs = append(cfg.SourceIPs, a)
		}
		return cfg, nil
	}
	for _, s := range t.SourceIPs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return load.Config{}, fmt.Errorf("agent %s: source IP %q: %w", t.Agent, s, err)
		}
		cfg.SourceIPs = append(cfg.SourceIPs, a)
	}
	return cfg, nil
}

// ownAddress is the address this machine sends from towards the first
// domain's public IP (a UDP socket is connected, nothing is sent).
func ownAddress(domains []history.Domain) (netip.Addr, error) {
	if len(domains) == 0 {
		return netip.Addr{}, errors.New("no domain to find the own address towards")
	}
	c, err := net.Dial("udp", net.JoinHostPort(domains[0].PublicIP, "443"))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find the own address towards %s: %w", domains[0].PublicIP, err)
	}
	defer c.Close()
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find the own address towards %s: %w", domains[0].PublicIP, err)
	}
	return ap.Addr().Unmap(), nil
}
