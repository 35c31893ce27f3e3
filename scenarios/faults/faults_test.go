package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness/links"
)

// fakeLab records every call a fault makes, and what is broken now: the
// cut wires and the toxics on them. Calls on a wire in fail fail.
type fakeLab struct {
	calls  []string
	noDB   bool
	fail   map[string]bool // wire or side names whose calls fail
	cut    map[string]bool
	toxics map[string]bool // "wire toxic"
	delay  map[string]time.Duration
}

func (l *fakeLab) note(format string, args ...any) error {
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
	return nil
}

// failing records a call on name and fails it when name is in fail.
func (l *fakeLab) failing(name, format string, args ...any) error {
	if l.fail[name] {
		l.calls = append(l.calls, "FAIL "+fmt.Sprintf(format, args...))
		return fmt.Errorf("%s is broken", name)
	}
	return l.note(format, args...)
}

// broken lists what is still cut, toxic or delayed.
func (l *fakeLab) broken() []string {
	var out []string
	for n, on := range l.cut {
		if on {
			out = append(out, "cut "+n)
		}
	}
	for n, on := range l.toxics {
		if on {
			out = append(out, "toxic "+n)
		}
	}
	for s, d := range l.delay {
		if d != 0 {
			out = append(out, "delay "+s)
		}
	}
	return out
}

func set[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[k] = v
}

func (l *fakeLab) CrashProvider(_ context.Context, id string) error { return l.note("crash %s", id) }
func (l *fakeLab) RestartProvider(_ context.Context, id string) error {
	return l.note("restart %s", id)
}
func (l *fakeLab) HangProvider(_ context.Context, id string, on bool) error {
	return l.note("hang %s %v", id, on)
}
func (l *fakeLab) PauseProvider(_ context.Context, id string, on bool) error {
	return l.note("pause %s %v", id, on)
}
func (l *fakeLab) StopBalancer(context.Context) error  { return l.note("stop balancer") }
func (l *fakeLab) StartBalancer(context.Context) error { return l.note("start balancer") }
func (l *fakeLab) BalancerLinks(p string) []string {
	return []string{"lb-" + p + "-abc", "lb-" + p + "-def"}
}
func (l *fakeLab) DatabaseLink(p string) string { return "db-" + p }
func (l *fakeLab) ClearingLinks(i int) []string {
	return []string{fmt.Sprintf("clear-p1-%d", i+1), fmt.Sprintf("clear-p2-%d", i+1)}
}
func (l *fakeLab) CutLink(n string) error {
	if err := l.failing(n, "cut %s", n); err != nil {
		return err
	}
	set(&l.cut, n, true)
	return nil
}
func (l *fakeLab) RestoreLink(n string) error {
	set(&l.cut, n, false)
	return l.note("restore %s", n)
}
func (l *fakeLab) AddToxic(n string, t links.Toxic) error {
	stream := t.Stream
	if stream == "" {
		stream = "downstream"
	}
	if err := l.failing(n, "toxic %s %s/%s %s %v", n, t.Name, stream, t.Type, t.Attributes); err != nil {
		return err
	}
	set(&l.toxics, n+" "+t.Name, true)
	return nil
}
func (l *fakeLab) RemoveToxic(_ context.Context, n, toxic string) error {
	if !l.toxics[n+" "+toxic] {
		l.calls = append(l.calls, "untoxic "+n+" "+toxic+" (none)")
		return fmt.Errorf("remove toxic %s from link %s: %w", toxic, n, links.ErrNoToxic)
	}
	set(&l.toxics, n+" "+toxic, false)
	return l.note("untoxic %s %s", n, toxic)
}
func (l *fakeLab) Database() (DB, error) {
	if l.noDB {
		return nil, errors.New("no pair")
	}
	return fakeDB{l}, nil
}

type fakeDB struct{ l *fakeLab }

func (d fakeDB) Kill(_ context.Context, s string) error    { return d.l.note("db kill %s", s) }
func (d fakeDB) Start(_ context.Context, s string) error   { return d.l.note("db start %s", s) }
func (d fakeDB) Stop(_ context.Context, s string) error    { return d.l.note("db stop %s", s) }
func (d fakeDB) Pause(_ context.Context, s string) error   { return d.l.note("db pause %s", s) }
func (d fakeDB) Unpause(_ context.Context, s string) error { return d.l.note("db unpause %s", s) }
func (d fakeDB) CutReplication(context.Context) error {
	set(&d.l.cut, "replication", true)
	return d.l.note("repl cut")
}
func (d fakeDB) HealReplication(context.Context) error {
	set(&d.l.cut, "replication", false)
	return d.l.note("repl heal")
}
func (d fakeDB) StopReplica(_ context.Context, s string) error {
	set(&d.l.cut, "replica-"+s, true)
	return d.l.note("replica stop %s", s)
}
func (d fakeDB) StartReplica(_ context.Context, s string) error {
	set(&d.l.cut, "replica-"+s, false)
	return d.l.note("replica start %s", s)
}
func (d fakeDB) WriteUnlogged(_ context.Context, s, q string) error {
	return d.l.note("unlogged %s %s", s, q)
}
func (d fakeDB) SetReplicationDelay(_ context.Context, s string, t time.Duration) error {
	if err := d.l.failing(s, "delay %s %s", s, t); err != nil {
		return err
	}
	set(&d.l.delay, s, t)
	return nil
}

// TestFaults: each fault breaks exactly what it names on Inject, mends it on
// Recover, and says which provider it takes out.
func TestFaults(t *testing.T) {
	cases := []struct {
		fault   Fault
		name    string
		inject  string
		recover string
		kind    Kind
	}{
		{ProviderCrash{"p1"}, "provider-crash", "crash p1", "restart p1", Kind{Provider: true, Affects: "p1"}},
		{ProviderHang{"p2"}, "provider-hang", "hang p2 true", "hang p2 false", Kind{Provider: true, Affects: "p2"}},
		{ProviderPause{"p2"}, "provider-pause", "pause p2 true", "pause p2 false", Kind{Provider: true, Affects: "p2"}},
		{BalancerRestart{}, "balancer-restart", "stop balancer", "start balancer", Kind{Balancer: true}},
		{ProviderSlow{"p1", 80 * time.Millisecond}, "provider-slow",
			"toxic lb-p1-abc provider-slow/downstream latency map[latency:80]|toxic lb-p1-def provider-slow/downstream latency map[latency:80]",
			"untoxic lb-p1-abc provider-slow|untoxic lb-p1-def provider-slow", Kind{}},
		{LinkCut{Provider: "p1"}, "link-cut", "cut lb-p1-abc|cut lb-p1-def", "restore lb-p1-abc|restore lb-p1-def", Kind{Provider: true, Affects: "p1"}},
		{LinkReset{Provider: "p2"}, "link-reset", "toxic lb-p2-abc link-reset/upstream reset_peer map[timeout:0]|toxic lb-p2-def link-reset/upstream reset_peer map[timeout:0]",
			"untoxic lb-p2-abc link-reset|untoxic lb-p2-def link-reset", Kind{Provider: true, Affects: "p2"}},
		{ProviderDBCut{"p1"}, "provider-db-cut", "cut db-p1", "restore db-p1", Kind{Provider: true, Affects: "p1"}},
		{DBSilentWrite{"b"}, "db-silent-write", "unlogged b " + silentWrite, "", Kind{Database: true}},
		{LinkBlackhole{"p1", "response"}, "link-blackhole", "toxic lb-p1-abc link-blackhole/downstream timeout map[timeout:0]|toxic lb-p1-def link-blackhole/downstream timeout map[timeout:0]",
			"untoxic lb-p1-abc link-blackhole|untoxic lb-p1-def link-blackhole", Kind{Provider: true, Affects: "p1"}},
		{ClearingCut{0}, "clearing-cut", "cut clear-p1-1|cut clear-p2-1", "restore clear-p1-1|restore clear-p2-1", Kind{}},
		{DBKill{"b"}, "db-kill", "db kill b", "db start b", Kind{Provider: true, Database: true, Affects: "p2"}},
		{DBPause{"a"}, "db-pause", "db pause a", "db unpause a", Kind{Provider: true, Database: true, Affects: "p1"}},
		{DBRestart{"a"}, "db-restart", "db stop a", "db start a", Kind{Provider: true, Database: true, Affects: "p1"}},
		{ReplicationCut{}, "replication-cut", "repl cut", "repl heal", Kind{Database: true}},
		{ReplicationStop{"b"}, "replication-stop", "replica stop b", "replica start b", Kind{Database: true}},
		{ReplicationDelay{"b", 2 * time.Second}, "replication-delay", "delay b 2s", "delay b 0s", Kind{Database: true}},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := &fakeLab{}
			f := tc.fault
			assert.Equal(t, tc.name, f.Name())
			assert.NotEmpty(t, f.Target())
			assert.Equal(t, tc.kind, f.Kind())
			require.NoError(t, f.Inject(ctx, lab))
			assert.Equal(t, tc.inject, strings.Join(lab.calls, "|"))
			lab.calls = nil
			require.NoError(t, f.Recover(ctx, lab))
			assert.Equal(t, tc.recover, strings.Join(lab.calls, "|"))
		})
	}
}

// TestDatabaseFaultsWithoutAPair: a database fault in a lab without a
// MariaDB pair fails with a clear error instead of doing nothing.
func TestDatabaseFaultsWithoutAPair(t *testing.T) {
	lab := &fakeLab{noDB: true}
	err := DBKill{"a"}.Inject(context.Background(), lab)
	require.ErrorContains(t, err, "kill database a: no pair")
	assert.Empty(t, lab.calls)
}

// TestRegistry: every registered fault builds from its name with its
// defaults, answers to that name, and takes knobs from a spec string; bad
// specs name the problem and what is known.
func TestRegistry(t *testing.T) {
	for _, e := range Entries() {
		f, err := Build(e.Name, nil)
		require.NoError(t, err, e.Name)
		assert.Equal(t, e.Name, f.Name())
		assert.NotEmpty(t, e.Summary, e.Name)
	}
	name, knobs, err := ParseSpec("provider-slow:provider=p2, latency=1500ms")
	require.NoError(t, err)
	f, err := Build(name, knobs)
	require.NoError(t, err)
	assert.Equal(t, &ProviderSlow{Provider: "p2", Latency: 1500 * time.Millisecond}, f)

	bad := []struct{ spec, want string }{
		{"", "names no fault"},
		{"provider-slow:latency", `"latency" is not knob=value`},
		{"provider-slow:provider=p1,provider=p2", "knob provider given twice"},
	}
	for _, tc := range bad {
		_, _, err := ParseSpec(tc.spec)
		assert.ErrorContains(t, err, tc.want, tc.spec)
	}
	_, err = Build("provider-melt", nil)
	assert.ErrorContains(t, err, `unknown fault "provider-melt"; known faults: balancer-restart, clearing-cut`)
	_, err = Build("provider-slow", map[string]string{"speed": "1"})
	assert.ErrorContains(t, err, `fault provider-slow has no knob "speed"; its knobs: latency, provider`)
	_, err = Build("provider-slow", map[string]string{"latency": "fast"})
	assert.ErrorContains(t, err, `fault provider-slow knob latency="fast": not a duration`)
}

// TestLinkFaults: every link fault on every link class it acts on breaks
// exactly the wires the class names, mends them on Recover (leaving
// nothing broken) and says what it excuses.
func TestLinkFaults(t *testing.T) {
	ms := time.Millisecond
	p1 := Kind{Provider: true, Affects: "p1"}
	p2 := Kind{Provider: true, Affects: "p2"}
	db := Kind{Database: true}
	cases := []struct {
		fault   Fault
		target  string
		inject  string
		recover string
		kind    Kind
	}{
		// cut both ways
		{LinkCut{Provider: "p2", Link: LinkDatabase}, "p2-db", "cut db-p2", "restore db-p2", p2},
		{LinkCut{Link: LinkClearing, Clearing: 1}, "clearing-connection-2", "cut clear-p1-2|cut clear-p2-2", "restore clear-p1-2|restore clear-p2-2", Kind{}},
		{LinkCut{Link: LinkReplication}, "replication", "repl cut", "repl heal", db},
		// reset
		{LinkReset{Provider: "p1", Link: LinkDatabase, After: 200 * ms}, "p1-db (after 200ms)",
			"toxic db-p1 link-reset/upstream reset_peer map[timeout:200]", "untoxic db-p1 link-reset", p1},
		{LinkReset{Link: LinkClearing}, "clearing-connection-1",
			"toxic clear-p1-1 link-reset/upstream reset_peer map[timeout:0]|toxic clear-p2-1 link-reset/upstream reset_peer map[timeout:0]",
			"untoxic clear-p1-1 link-reset|untoxic clear-p2-1 link-reset", Kind{}},
		// one way
		{LinkOneway{Provider: "p2", Direction: "request"}, "lb-p2 (request)",
			"toxic lb-p2-abc link-oneway/upstream timeout map[timeout:0]|toxic lb-p2-def link-oneway/upstream timeout map[timeout:0]",
			"untoxic lb-p2-abc link-oneway|untoxic lb-p2-def link-oneway", p2},
		{LinkOneway{Provider: "p1", Link: LinkDatabase, Direction: "response"}, "p1-db (response)",
			"toxic db-p1 link-oneway/downstream timeout map[timeout:0]", "untoxic db-p1 link-oneway", p1},
		{LinkOneway{Link: LinkClearing, Direction: "request"}, "clearing-connection-1 (request)",
			"toxic clear-p1-1 link-oneway/upstream timeout map[timeout:0]|toxic clear-p2-1 link-oneway/upstream timeout map[timeout:0]",
			"untoxic clear-p1-1 link-oneway|untoxic clear-p2-1 link-oneway", Kind{}},
		{LinkOneway{Link: LinkReplication, Direction: "a-to-b"}, "replication (a-to-b)", "replica stop b", "replica start b", db},
		{LinkOneway{Link: LinkReplication, Direction: "b-to-a"}, "replication (b-to-a)", "replica stop a", "replica start a", db},
		// latency with jitter
		{LinkLatency{Provider: "p1", Latency: 300 * ms, Jitter: 100 * ms, Direction: "response"}, "lb-p1 (300ms ± 100ms, response)",
			"toxic lb-p1-abc link-latency/downstream latency map[jitter:100 latency:300]|toxic lb-p1-def link-latency/downstream latency map[jitter:100 latency:300]",
			"untoxic lb-p1-abc link-latency|untoxic lb-p1-def link-latency", Kind{}},
		{LinkLatency{Provider: "p2", Link: LinkDatabase, Latency: 100 * ms, Direction: "both"}, "p2-db (100ms, both)",
			"toxic db-p2 link-latency-request/upstream latency map[jitter:0 latency:100]|toxic db-p2 link-latency-response/downstream latency map[jitter:0 latency:100]",
			"untoxic db-p2 link-latency-request|untoxic db-p2 link-latency-response", Kind{}},
		{LinkLatency{Link: LinkClearing, Latency: 200 * ms, Jitter: 50 * ms, Direction: "request"}, "clearing-connection-1 (200ms ± 50ms, request)",
			"toxic clear-p1-1 link-latency/upstream latency map[jitter:50 latency:200]|toxic clear-p2-1 link-latency/upstream latency map[jitter:50 latency:200]",
			"untoxic clear-p1-1 link-latency|untoxic clear-p2-1 link-latency", Kind{}},
		{LinkLatency{Link: LinkReplication, Latency: 1500 * ms}, "replication (1.5s)", "delay a 1.5s|delay b 1.5s", "delay a 0s|delay b 0s", db},
		// bandwidth
		{LinkBandwidth{Provider: "p1", Rate: 2, Direction: "response"}, "lb-p1 (2 KB/s, response)",
			"toxic lb-p1-abc link-bandwidth/downstream bandwidth map[rate:2]|toxic lb-p1-def link-bandwidth/downstream bandwidth map[rate:2]",
			"untoxic lb-p1-abc link-bandwidth|untoxic lb-p1-def link-bandwidth", p1},
		{LinkBandwidth{Provider: "p1", Link: LinkDatabase, Rate: 4, Direction: "request"}, "p1-db (4 KB/s, request)",
			"toxic db-p1 link-bandwidth/upstream bandwidth map[rate:4]", "untoxic db-p1 link-bandwidth", p1},
		{LinkBandwidth{Link: LinkClearing, Clearing: 1, Rate: 1, Direction: "response"}, "clearing-connection-2 (1 KB/s, response)",
			"toxic clear-p1-2 link-bandwidth/downstream bandwidth map[rate:1]|toxic clear-p2-2 link-bandwidth/downstream bandwidth map[rate:1]",
			"untoxic clear-p1-2 link-bandwidth|untoxic clear-p2-2 link-bandwidth", Kind{}},
		// slicing
		{LinkSlice{Provider: "p2", Size: 16, Variation: 4, Delay: 5 * ms, Direction: "response"}, "lb-p2 (16±4 B every 5ms, response)",
			"toxic lb-p2-abc link-slice/downstream slicer map[average_size:16 delay:5000 size_variation:4]|toxic lb-p2-def link-slice/downstream slicer map[average_size:16 delay:5000 size_variation:4]",
			"untoxic lb-p2-abc link-slice|untoxic lb-p2-def link-slice", p2},
		{LinkSlice{Provider: "p1", Link: LinkDatabase, Size: 8, Delay: ms, Direction: "response"}, "p1-db (8±0 B every 1ms, response)",
			"toxic db-p1 link-slice/downstream slicer map[average_size:8 delay:1000 size_variation:0]", "untoxic db-p1 link-slice", p1},
		{LinkSlice{Link: LinkClearing, Size: 4, Variation: 1, Delay: 2 * ms, Direction: "request"}, "clearing-connection-1 (4±1 B every 2ms, request)",
			"toxic clear-p1-1 link-slice/upstream slicer map[average_size:4 delay:2000 size_variation:1]|toxic clear-p2-1 link-slice/upstream slicer map[average_size:4 delay:2000 size_variation:1]",
			"untoxic clear-p1-1 link-slice|untoxic clear-p2-1 link-slice", Kind{}},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.fault.Name()+" "+tc.target, func(t *testing.T) {
			lab := &fakeLab{}
			f := tc.fault
			assert.Equal(t, tc.target, f.Target())
			assert.Equal(t, tc.kind, f.Kind())
			require.NoError(t, f.Inject(ctx, lab))
			assert.Equal(t, tc.inject, strings.Join(lab.calls, "|"))
			assert.NotEmpty(t, lab.broken(), "inject broke something")
			lab.calls = nil
			require.NoError(t, f.Recover(ctx, lab))
			assert.Equal(t, tc.recover, strings.Join(lab.calls, "|"))
			assert.Empty(t, lab.broken(), "recover mended everything")
			_, ok := f.(Effect)
			assert.True(t, ok, "%s declares its effect", f.Name())
			e, ok := Lookup(f.Name())
			require.True(t, ok)
			assert.Equal(t, tc.fault.(interface{ NeedsDatabase() bool }).NeedsDatabase(), NeedsDatabase(f))
			assert.False(t, e.NeedsDatabase, "the link knob, not the entry, says whether %s needs the pair", f.Name())
		})
	}
}

// TestLinkFaultsRecoverAPartialInject: when one wire (or one master) fails
// during Inject, Recover still mends the others, without an error for what
// was never broken.
func TestLinkFaultsRecoverAPartialInject(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		fault Fault
		fail  string
	}{
		{LinkCut{Provider: "p1"}, "lb-p1-abc"},
		{LinkCut{Link: LinkClearing}, "clear-p2-1"},
		{LinkReset{Provider: "p1"}, "lb-p1-def"},
		{LinkOneway{Provider: "p1", Link: LinkDatabase, Direction: "request"}, "db-p1"},
		{LinkLatency{Provider: "p2", Latency: time.Second, Direction: "both"}, "lb-p2-def"},
		{LinkLatency{Link: LinkReplication, Latency: time.Second}, "a"},
		{LinkBandwidth{Link: LinkClearing, Rate: 1, Direction: "response"}, "clear-p1-1"},
		{LinkSlice{Provider: "p1", Size: 8, Delay: time.Millisecond, Direction: "both"}, "lb-p1-abc"},
	}
	for _, tc := range cases {
		t.Run(tc.fault.Name()+" "+tc.fault.Target(), func(t *testing.T) {
			lab := &fakeLab{fail: map[string]bool{tc.fail: true}}
			err := tc.fault.Inject(ctx, lab)
			require.ErrorContains(t, err, tc.fail+" is broken")
			assert.Contains(t, strings.Join(lab.calls, "|"), "FAIL ")
			lab.fail = nil
			require.NoError(t, tc.fault.Recover(ctx, lab), "recover after a partial inject")
			assert.Empty(t, lab.broken())
		})
	}
}

// TestLinkFaultSpecs: the link faults build from --fault specs with their
// knobs; knobs that contradict each other are refused before any run, with
// the reason and what would do.
func TestLinkFaultSpecs(t *testing.T) {
	build := func(spec string) (Fault, error) {
		name, knobs, err := ParseSpec(spec)
		require.NoError(t, err, spec)
		return Build(name, knobs)
	}
	ms := time.Millisecond
	good := []struct {
		spec string
		want Fault
	}{
		{"link-cut", &LinkCut{Provider: "p1", Link: LinkBalancer}},
		{"link-cut:provider=p2", &LinkCut{Provider: "p2", Link: LinkBalancer}},
		{"link-cut:link=replication", &LinkCut{Provider: "p1", Link: LinkReplication}},
		{"link-reset:link=clearing,clearing=1,after=200ms", &LinkReset{Provider: "p1", Link: LinkClearing, Clearing: 1, After: 200 * ms}},
		{"link-oneway:link=database,provider=p2,direction=response", &LinkOneway{Provider: "p2", Link: LinkDatabase, Direction: "response"}},
		{"link-oneway:link=replication,direction=b-to-a", &LinkOneway{Provider: "p1", Link: LinkReplication, Direction: "b-to-a"}},
		{"link-latency:link=database,provider=p1,latency=300ms,latency_jitter=100ms",
			&LinkLatency{Provider: "p1", Link: LinkDatabase, Latency: 300 * ms, Jitter: 100 * ms, Direction: "response"}},
		{"link-latency:link=replication,latency=2s", &LinkLatency{Provider: "p1", Link: LinkReplication, Latency: 2 * time.Second, Direction: "response"}},
		{"link-bandwidth:link=clearing,rate=8,direction=both", &LinkBandwidth{Provider: "p1", Link: LinkClearing, Rate: 8, Direction: "both"}},
		{"link-slice:provider=p2,size=8,variation=2,delay=1ms,direction=request",
			&LinkSlice{Provider: "p2", Link: LinkBalancer, Size: 8, Variation: 2, Delay: ms, Direction: "request"}},
	}
	for _, tc := range good {
		f, err := build(tc.spec)
		require.NoError(t, err, tc.spec)
		assert.Equal(t, tc.want, f, tc.spec)
	}
	bad := []struct{ spec, want string }{
		{"link-cut:link=wan", `fault link-cut: link "wan": want balancer, database, clearing or replication`},
		{"link-cut:link=database,provider=", "link=database needs a provider"},
		{"link-cut:link=clearing,clearing=-1", "clearing=-1: want the clearing connection's index from 0"},
		{"link-reset:link=replication", "link=replication is no proxied wire"},
		{"link-reset:after=-1s", "after=-1s: want 0 or more"},
		{"link-oneway:direction=sideways", `direction "sideways": want request or response (both ways is link-cut)`},
		{"link-oneway:link=replication", `direction "request" on link=replication: want a-to-b or b-to-a`},
		{"link-latency:latency=0s", "latency=0s: want more than 0"},
		{"link-latency:latency=100ms,latency_jitter=200ms", "latency_jitter=200ms: want 0 up to the latency 100ms"},
		{"link-latency:link=replication,latency=2s,latency_jitter=100ms", "latency_jitter=100ms on link=replication: MASTER_DELAY is a fixed delay"},
		{"link-latency:direction=up", `direction "up": want request, response or both`},
		{"link-bandwidth:rate=0", "rate=0: want KB/s above 0"},
		{"link-bandwidth:link=replication", "link=replication is no proxied wire"},
		{"link-bandwidth:rate=fast", `knob rate="fast": not a whole number`},
		{"link-slice:size=4,variation=4", "variation=4: want 0 up to below the size 4"},
		{"link-slice:link=replication", "link=replication is no proxied wire"},
	}
	for _, tc := range bad {
		_, err := build(tc.spec)
		assert.ErrorContains(t, err, tc.want, tc.spec)
	}
}

// TestLinkFaultsRefuseAtInject: a link fault given as a Go value is checked
// again when injected, and a lab without the pair or an environment
// without wires says so instead of doing nothing.
func TestLinkFaultsRefuseAtInject(t *testing.T) {
	ctx := context.Background()
	lab := &fakeLab{noDB: true}
	err := LinkLatency{Provider: "p1", Link: LinkDatabase, Latency: time.Second, Direction: "response"}.Inject(ctx, lab)
	require.ErrorContains(t, err, "the wire from p1 to its database: no pair")
	require.ErrorContains(t, LinkCut{Link: LinkReplication}.Inject(ctx, lab), "cut replication: no pair")
	require.ErrorContains(t, LinkBandwidth{Link: LinkReplication, Rate: 1, Direction: "response"}.Inject(ctx, lab), "no proxied wire")
	require.NoError(t, LinkBandwidth{Link: LinkReplication, Rate: 1, Direction: "response"}.Recover(ctx, lab), "nothing to mend")
	assert.Empty(t, lab.calls)

	deployment := Unsupported{Why: "a deployment"}
	err = LinkSlice{Provider: "p1", Size: 8, Direction: "response"}.Inject(ctx, deployment)
	require.ErrorContains(t, err, "the environment has no balancer wires for lb-p1")
}

// TestNeedsDatabase: the entry's flag, or the link knob of a link fault.
func TestNeedsDatabase(t *testing.T) {
	assert.True(t, NeedsDatabase(ReplicationCut{}))
	assert.True(t, NeedsDatabase(ProviderDBCut{Provider: "p1"}))
	assert.False(t, NeedsDatabase(ProviderCrash{Provider: "p1"}))
	assert.False(t, NeedsDatabase(LinkCut{Provider: "p1"}))
	assert.False(t, NeedsDatabase(LinkLatency{Link: LinkClearing}))
	assert.True(t, NeedsDatabase(LinkLatency{Link: LinkDatabase, Provider: "p1"}))
	assert.True(t, NeedsDatabase(&LinkOneway{Link: LinkReplication}))
}

// TestKnobsLeaveTheStepKnobsAlone: at, for and jitter are the schedule's
// knobs of every --fault step (scenarios.ParseStep takes them out before
// the fault is built), so no fault may name a knob so: it could never be
// set from the command line.
func TestKnobsLeaveTheStepKnobsAlone(t *testing.T) {
	for _, e := range Entries() {
		for _, k := range e.Knobs() {
			assert.NotContains(t, []string{"at", "for", "jitter"}, k.Name, "fault %s", e.Name)
		}
	}
}
