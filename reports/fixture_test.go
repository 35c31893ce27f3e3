package reports

import (
	"fmt"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func labTopology() *Topology {
	return &Topology{
		Mode:     "offload",
		Balancer: "built-in sticky balancer (source IP)",
		Clients:  "127.0.10.1-127.0.10.16",
		Domains: []TopoDomain{
			{Name: "abc.test", PublicIP: "127.0.1.1", HTTPS: "127.0.1.1:8443", HTTP: "127.0.1.1:8080"},
			{Name: "def.test", PublicIP: "127.0.1.2", HTTPS: "127.0.1.2:8443", HTTP: "127.0.1.2:8080"},
		},
		Providers: []TopoProvider{
			{ID: "p1", Internal: map[string]string{"abc.test": "127.0.2.1:9000", "def.test": "127.0.2.2:9000"}},
			{ID: "p2", Internal: map[string]string{"abc.test": "127.0.2.3:9000", "def.test": "127.0.2.4:9000"}},
		},
		Databases: []TopoNode{{Name: "MariaDB 1", Address: "127.0.0.1:33061"}, {Name: "MariaDB 2", Address: "127.0.0.1:33062"}},
		Clearing:  []TopoNode{{Name: "clearing 1", Address: "127.0.3.1:7000"}, {Name: "clearing 2", Address: "127.0.3.2:7000"}},
	}
}

// timeline makes 60 one-second buckets; down(i) says whether p1 is down in
// bucket i, errs(i) how many requests failed in it; rr spreads requests evenly
// over the providers; gap makes lag measurements from db1 fail for a while.
func timeline(down func(int) bool, errs func(int) int, rr, gap bool) *Timeline {
	tl := &Timeline{Bucket: time.Second}
	for i := range 60 {
		n := 180 + (i*37)%23
		e := errs(i)
		p1 := n / 2
		if !rr {
			p1 = n/2 + (i*13)%9 - 4
		}
		if down(i) {
			p1 = 0
		}
		base := time.Duration(3+(i*7)%4) * time.Millisecond
		if e > 0 {
			base *= 8
		}
		tl.Points = append(tl.Points, Point{
			Offset: time.Duration(i) * time.Second, Requests: n, Errors: e,
			P50: base, P90: base * 2, P99: base*4 + time.Duration(i%5)*time.Millisecond,
			PerProvider: map[string]int{"p1": p1, "p2": n - e - p1},
		})
		if i%2 == 0 {
			for _, from := range []string{"db1", "db2"} {
				lag := time.Duration(300+(i*53)%900) * time.Microsecond
				if from == "db2" {
					lag = time.Duration(450+(i*29)%600) * time.Microsecond
				}
				failed := false
				if gap && from == "db1" && i >= 30 && i < 34 {
					lag, failed = 0, true
				}
				tl.Lag = append(tl.Lag, LagPoint{Offset: time.Duration(i) * time.Second, From: from, Lag: lag, Failed: failed})
			}
		}
	}
	return tl
}

func passing(names ...string) []Invariant {
	summaries := map[string]string{
		"stickiness":              "Every client IP stayed on one provider while it was healthy (16 clients, 10,812 requests).",
		"session-continuity":      "No client presenting its latest cookie was logged out.",
		"redirect":                "All 24 http URLs answered 301 to the same host, path and query on https.",
		"tls":                     "Each public name presented its own valid certificate, by IP and by SNI.",
		"forwarded-headers":       "Providers saw X-Forwarded-Proto https and the client's IP in X-Forwarded-For.",
		"replication-lag":         "Acknowledged writes were readable on the other master within 2.1 ms (bound 1 s).",
		"replication-convergence": "Both masters hold the same rows (CHECKSUM TABLE equal).",
		"no-lost-writes":          "All 2,406 acknowledged writes are present on both masters.",
		"auto-increment":          "Offsets 1 and 2, increment 2: no key collisions.",
		"replication-health":      "IO and SQL threads running on both masters.",
		"cookie-isolation":        "No session cookie of one tenant was accepted by the other.",
		"clearing":                "All 812 transactions cleared; both clearing links used.",
		"failover":                "Traffic moved to p2 within 1.8 s (bound 5 s); 12 requests failed (bound 50).",
	}
	var out []Invariant
	for _, n := range names {
		out = append(out, Invariant{Name: n, Verdict: Pass, Summary: summaries[n]})
	}
	return out
}

var steadyInvariants = []string{
	"stickiness", "session-continuity", "redirect", "tls", "forwarded-headers",
	"replication-lag", "replication-convergence", "no-lost-writes", "auto-increment",
	"replication-health", "cookie-isolation", "clearing",
}

// fixtureReport is a realistic passing run: a baseline, a provider crash with
// a fault window and failover measures, and a round-robin negative control
// whose stickiness check fails as it must.
func fixtureReport() *Report {
	none := func(int) bool { return false }
	noErr := func(int) int { return 0 }
	baseline := Scenario{
		Name: "baseline", Description: "Steady load on both names, no faults.",
		Started: t0, Ended: t0.Add(60 * time.Second),
		Invariants: append(passing(steadyInvariants...), Invariant{Name: "failover", Verdict: Skip, Summary: "No fault was injected."}),
		Topology:   labTopology(),
		Timeline:   timeline(none, noErr, false, false),
		Measures:   map[string]float64{"max_lag_seconds": 0.0021},
	}
	c0 := t0.Add(61 * time.Second)
	crash := Scenario{
		Name: "provider-crash", Description: "Provider p1 is killed under load at 20 s and restarted at 35 s.",
		Started: c0, Ended: c0.Add(60 * time.Second),
		Invariants: append(passing("failover"), passing(steadyInvariants...)...),
		Topology:   labTopology(),
		Faults:     []FaultWindow{{Name: "kill provider", Target: "p1 (127.0.2.1, 127.0.2.2)", Injected: c0.Add(20 * time.Second), Recovered: c0.Add(35 * time.Second)}},
		Timeline: timeline(func(i int) bool { return i >= 20 && i < 35 }, func(i int) int {
			if i == 20 {
				return 9
			}
			if i == 21 {
				return 3
			}
			return 0
		}, false, true),
		Measures: map[string]float64{"rto_seconds": 1.8, "rpo_writes": 0, "failed_requests": 12},
	}
	crash.Invariants[1].Summary = "Every client IP stayed on one provider while it was healthy; 8 clients moved to p2 at the crash, as allowed."
	r0 := c0.Add(61 * time.Second)
	var witness []string
	for i := range 6 {
		witness = append(witness, fmt.Sprintf("client 127.0.10.%d  %s  GET https://abc.test/inbox  → p%d  (previous request %s → p%d)",
			i+3, r0.Add(time.Duration(1200+i*317)*time.Millisecond).Format("15:04:05.000"), 1+(i+1)%2,
			r0.Add(time.Duration(1100+i*317)*time.Millisecond).Format("15:04:05.000"), 1+i%2))
	}
	witness = append(witness, "raw cookie bytes: regify_session=\x00\x1b[31m<script>alert(1)</script>\xff&amp;")
	rr := Scenario{
		Name: "round-robin", Description: "The balancer is switched to round robin: stickiness must be flagged.",
		Started: r0, Ended: r0.Add(30 * time.Second),
		Negative: true, Expect: []string{"stickiness"},
		Invariants: append([]Invariant{
			{Name: "stickiness", Verdict: Fail, Summary: "14 of 16 client IPs reached both providers while both were healthy (4,118 switches).", Evidence: witness},
			{Name: "session-continuity", Verdict: Fail, Summary: "11 clients were logged out after their cookie went to the other provider.",
				Evidence: []string{"client 127.0.10.4  12:02:03.418  GET /inbox → p2  401 (token issued by p1)"}},
		}, passing("redirect", "tls", "forwarded-headers", "replication-health", "clearing")...),
		Topology: func() *Topology {
			t := labTopology()
			t.Balancer = "built-in balancer (round robin, broken on purpose)"
			return t
		}(),
		Timeline: func() *Timeline {
			tl := timeline(none, func(i int) int { return (i * 7) % 5 }, true, false)
			tl.Points = tl.Points[:30]
			tl.Lag = tl.Lag[:30]
			return tl
		}(),
	}
	r := &Report{
		RunID: "rv-20261126-120000-7f3a", Seed: 42, Mode: "lab",
		Started: t0, Ended: r0.Add(31 * time.Second),
		Repro: Repro{
			Command: "regify-verify run --seed 42 --scenario baseline --scenario provider-crash --scenario round-robin --users 16 --rate 200 --duration 60s --out ./out",
			Version: "v0.3.0-dev (99bf55e)", GoVersion: "go1.26.8", ConfigHash: "sha256:4be1c0ffee9d2a7e51c8f0b3d6a2e91f",
			Images: map[string]string{"mariadb": "regify-verify/mariadb:10.11-bookworm@sha256:91ab"},
		},
		Scenarios: []Scenario{baseline, crash, rr},
	}
	r.Finish()
	return r
}

// brokenReport is fixtureReport with a real failure: acknowledged writes
// were lost in the provider crash.
func brokenReport() *Report {
	r := fixtureReport()
	s := &r.Scenarios[1]
	for i := range s.Invariants {
		if s.Invariants[i].Name == "no-lost-writes" {
			s.Invariants[i] = Invariant{Name: "no-lost-writes", Verdict: Fail,
				Summary: "3 of 2,406 acknowledged writes are missing on MariaDB 2.",
				Evidence: []string{
					"messages.id=msg-0412-77  acknowledged 201 by p1 at 12:01:20.914  present on db1, missing on db2",
					"messages.id=msg-0412-78  acknowledged 201 by p1 at 12:01:20.931  present on db1, missing on db2",
					"messages.id=msg-0519-02  acknowledged 201 by p1 at 12:01:20.977  present on db1, missing on db2",
				}}
		}
	}
	s.Measures["rpo_writes"] = 3
	r.Finish()
	return r
}
