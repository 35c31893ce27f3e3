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
func (d fakeDB) SetReplicationDelay(_ context.Context, s string, t time.Duration) error {
	return d.l.note("delay %s %s", s, t)
}

// TestFaults: each fault breaks exactly what it names on Inject, mends it on
// Recover, and says which provider it takes out.
func TestFaults(t *testing.T) {
	cases := []struct {
		make    func(Lab) Fault
		name    string
		inject  string
		recover string
		kind    Kind
	}{
		{func(l Lab) Fault { return ProviderCrash{l, "p1"} }, "provider-crash", "crash p1", "restart p1", Kind{Provider: true, Affects: "p1"}},
		{func(l Lab) Fault { return ProviderHang{l, "p2"} }, "provider-hang", "hang p2 true", "hang p2 false", Kind{Provider: true, Affects: "p2"}},
		{func(l Lab) Fault { return ProviderSlow{l, "p1", 80 * time.Millisecond} }, "provider-slow",
			"toxic lb-p1-abc latency map[latency:80]|toxic lb-p1-def latency map[latency:80]",
			"untoxic lb-p1-abc provider-slow|untoxic lb-p1-def provider-slow", Kind{}},
		{func(l Lab) Fault { return LinkCut{l, "p1"} }, "link-cut", "cut lb-p1-abc|cut lb-p1-def", "restore lb-p1-abc|restore lb-p1-def", Kind{Provider: true, Affects: "p1"}},
		{func(l Lab) Fault { return LinkReset{l, "p2"} }, "link-reset", "toxic lb-p2-abc reset_peer map[timeout:0]|toxic lb-p2-def reset_peer map[timeout:0]",
			"untoxic lb-p2-abc link-reset|untoxic lb-p2-def link-reset", Kind{Provider: true, Affects: "p2"}},
		{func(l Lab) Fault { return ProviderDBCut{l, "p1"} }, "provider-db-cut", "cut db-p1", "restore db-p1", Kind{Provider: true, Affects: "p1"}},
		{func(l Lab) Fault { return ClearingCut{l, 0} }, "clearing-cut", "cut clear-p1-1|cut clear-p2-1", "restore clear-p1-1|restore clear-p2-1", Kind{}},
		{func(l Lab) Fault { return DBKill{l, "b"} }, "db-kill", "db kill b", "db start b", Kind{Provider: true, Database: true, Affects: "p2"}},
		{func(l Lab) Fault { return DBPause{l, "a"} }, "db-pause", "db pause a", "db unpause a", Kind{Provider: true, Database: true, Affects: "p1"}},
		{func(l Lab) Fault { return DBRestart{l, "a"} }, "db-restart", "db stop a", "db start a", Kind{Provider: true, Database: true, Affects: "p1"}},
		{func(l Lab) Fault { return ReplicationCut{l} }, "replication-cut", "repl cut", "repl heal", Kind{Database: true}},
		{func(l Lab) Fault { return ReplicationStop{l, "b"} }, "replication-stop", "replica stop b", "replica start b", Kind{Database: true}},
		{func(l Lab) Fault { return ReplicationDelay{l, "b", 2 * time.Second} }, "replication-delay", "delay b 2s", "delay b 0s", Kind{Database: true}},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := &fakeLab{}
			f := tc.make(lab)
			assert.Equal(t, tc.name, f.Name())
			assert.NotEmpty(t, f.Target())
			assert.Equal(t, tc.kind, f.Kind())
			require.NoError(t, f.Inject(ctx))
			assert.Equal(t, tc.inject, strings.Join(lab.calls, "|"))
			lab.calls = nil
			require.NoError(t, f.Recover(ctx))
			assert.Equal(t, tc.recover, strings.Join(lab.calls, "|"))
		})
	}
}

// TestDatabaseFaultsWithoutAPair: a database fault in a lab without a
// MariaDB pair fails with a clear error instead of doing nothing.
func TestDatabaseFaultsWithoutAPair(t *testing.T) {
	lab := &fakeLab{noDB: true}
	err := DBKill{lab, "a"}.Inject(context.Background())
	require.ErrorContains(t, err, "kill database a: no pair")
	assert.Empty(t, lab.calls)
}
