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

// fakeLab records every call a fault makes.
type fakeLab struct {
	calls []string
	noDB  bool
}

func (l *fakeLab) note(format string, args ...any) error {
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
	return nil
}

func (l *fakeLab) CrashProvider(_ context.Context, id string) error { return l.note("crash %s", id) }
func (l *fakeLab) RestartProvider(_ context.Context, id string) error {
	return l.note("restart %s", id)
}
func (l *fakeLab) HangProvider(_ context.Context, id string, on bool) error {
	return l.note("hang %s %v", id, on)
}
func (l *fakeLab) BalancerLinks(p string) []string {
	return []string{"lb-" + p + "-abc", "lb-" + p + "-def"}
}
func (l *fakeLab) DatabaseLink(p string) string { return "db-" + p }
func (l *fakeLab) ClearingLinks(i int) []string {
	return []string{fmt.Sprintf("clear-p1-%d", i+1), fmt.Sprintf("clear-p2-%d", i+1)}
}
func (l *fakeLab) CutLink(n string) error     { return l.note("cut %s", n) }
func (l *fakeLab) RestoreLink(n string) error { return l.note("restore %s", n) }
func (l *fakeLab) AddToxic(n string, t links.Toxic) error {
	return l.note("toxic %s %s %v", n, t.Type, t.Attributes)
}
func (l *fakeLab) RemoveToxic(_ context.Context, n, toxic string) error {
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
func (d fakeDB) CutReplication(context.Context) error      { return d.l.note("repl cut") }
func (d fakeDB) HealReplication(context.Context) error     { return d.l.note("repl heal") }
func (d fakeDB) StopReplica(_ context.Context, s string) error {
	return d.l.note("replica stop %s", s)
}
func (d fakeDB) StartReplica(_ context.Context, s string) error {
	return d.l.note("replica start %s", s)
}
func (d fakeDB) WriteUnlogged(_ context.Context, s, q string) error {
	return d.l.note("unlogged %s %s", s, q)
}
func (d fakeDB) SetReplicationDelay(_ context.Context, s string, t time.Duration) error {
	return d.l.note("delay %s %s", s, t)
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
		{ProviderSlow{"p1", 80 * time.Millisecond}, "provider-slow",
			"toxic lb-p1-abc latency map[latency:80]|toxic lb-p1-def latency map[latency:80]",
			"untoxic lb-p1-abc provider-slow|untoxic lb-p1-def provider-slow", Kind{}},
		{LinkCut{"p1"}, "link-cut", "cut lb-p1-abc|cut lb-p1-def", "restore lb-p1-abc|restore lb-p1-def", Kind{Provider: true, Affects: "p1"}},
		{LinkReset{"p2"}, "link-reset", "toxic lb-p2-abc reset_peer map[timeout:0]|toxic lb-p2-def reset_peer map[timeout:0]",
			"untoxic lb-p2-abc link-reset|untoxic lb-p2-def link-reset", Kind{Provider: true, Affects: "p2"}},
		{ProviderDBCut{"p1"}, "provider-db-cut", "cut db-p1", "restore db-p1", Kind{Provider: true, Affects: "p1"}},
		{DBSilentWrite{"b"}, "db-silent-write", "unlogged b " + silentWrite, "", Kind{Database: true}},
		{LinkBlackhole{"p1", "response"}, "link-blackhole", "toxic lb-p1-abc timeout map[timeout:0]|toxic lb-p1-def timeout map[timeout:0]",
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
	assert.ErrorContains(t, err, `unknown fault "provider-melt"; known faults: clearing-cut`)
	_, err = Build("provider-slow", map[string]string{"speed": "1"})
	assert.ErrorContains(t, err, `fault provider-slow has no knob "speed"; its knobs: latency, provider`)
	_, err = Build("provider-slow", map[string]string{"latency": "fast"})
	assert.ErrorContains(t, err, `fault provider-slow knob latency="fast": not a duration`)
}
