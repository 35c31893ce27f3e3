package cleanup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// owners are owner labels for the cases the sweep must tell apart.
type owners struct {
	self, parent, deadPid, wrongTicks, otherHost string
}

func testOwners(t *testing.T) owners {
	t.Helper()
	host, err := os.Hostname()
	require.NoError(t, err)
	self := os.Getpid()
	selfTicks := startTicks(self)
	require.NotZero(t, selfTicks, "read this process's start ticks from /proc")
	ppid := os.Getppid()
	parentTicks := startTicks(ppid)
	require.NotZero(t, parentTicks, "read the parent's start ticks from /proc")
	return owners{
		self:       SelfOwner(),
		parent:     fmt.Sprintf("%s/%d/%d", host, ppid, parentTicks),
		deadPid:    fmt.Sprintf("%s/%d/%d", host, unusedPid(t), selfTicks),
		wrongTicks: fmt.Sprintf("%s/%d/%d", host, self, selfTicks+1),
		otherHost:  fmt.Sprintf("%s-elsewhere/%d/%d", host, self, selfTicks+1),
	}
}

// unusedPid is pid_max: pids are always below it, so no process has it.
func unusedPid(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	require.NoError(t, err, "read pid_max")
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err, "parse pid_max")
	_, err = os.Stat(fmt.Sprintf("/proc/%d", pid))
	require.True(t, errors.Is(err, os.ErrNotExist), "pid %d must not exist", pid)
	return pid
}

func TestSelfOwner(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)
	parts := strings.Split(SelfOwner(), "/")
	require.Len(t, parts, 3)
	require.Equal(t, host, parts[0])
	require.Equal(t, strconv.Itoa(os.Getpid()), parts[1])
	require.Equal(t, strconv.FormatUint(startTicks(os.Getpid()), 10), parts[2])
}

func TestStartTicks(t *testing.T) {
	require.NotZero(t, startTicks(os.Getpid()))
	require.Equal(t, startTicks(os.Getpid()), startTicks(os.Getpid()), "stable for one process")
	require.Zero(t, startTicks(unusedPid(t)))
	require.Zero(t, startTicks(-1))
}

func TestOwnerAlive(t *testing.T) {
	o := testOwners(t)
	host, _ := os.Hostname()
	tests := []struct {
		name  string
		owner string
		alive bool
	}{
		{"this process", o.self, true},
		{"parent process", o.parent, true},
		{"pid that does not exist", o.deadPid, false},
		{"live pid, wrong start ticks (pid reused)", o.wrongTicks, false},
		{"other host: not ours to judge", o.otherHost, true},
		{"empty", "", false},
		{"two fields", host + "/1", false},
		{"pid not a number", host + "/x/1", false},
		{"ticks not a number", fmt.Sprintf("%s/%d/x", host, os.Getpid()), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.alive, ownerAlive(tt.owner))
		})
	}
}

func TestDoomed(t *testing.T) {
	o := testOwners(t)
	tests := []struct {
		name              string
		owner             string
		doomed, doomedAll bool
	}{
		{"own objects are never swept", o.self, false, false},
		{"live owner kept unless all", o.parent, false, true},
		{"other host kept unless all", o.otherHost, false, true},
		{"dead pid swept", o.deadPid, true, true},
		{"wrong start ticks swept", o.wrongTicks, true, true},
		{"malformed owner swept (the run label says it is ours)", "garbage", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.doomed, doomed(tt.owner, o.self, false), "without all")
			require.Equal(t, tt.doomedAll, doomed(tt.owner, o.self, true), "with all")
		})
	}
}

// TestSweepTempDirs sweeps temp dirs only (no Docker client) in a root of
// its own.
func TestSweepTempDirs(t *testing.T) {
	o := testOwners(t)
	type dir struct {
		name, owner         string // owner "" writes no owner mark
		removed, removedAll bool
	}
	dirs := []dir{
		{TempPrefix + "rv00000001-dead", o.deadPid, true, true},
		{TempPrefix + "rv00000002-ticks", o.wrongTicks, true, true},
		{TempPrefix + "rv00000003-live", o.parent, false, true},
		{TempPrefix + "rv00000004-self", o.self, false, false},
		{TempPrefix + "rv00000005-unmarked", "", false, false},
		{"other-rv00000006", o.deadPid, false, false},
	}
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("all=%v", all), func(t *testing.T) {
			root := t.TempDir()
			for _, d := range dirs {
				p := filepath.Join(root, d.name)
				require.NoError(t, os.Mkdir(p, 0o755))
				if d.owner != "" {
					require.NoError(t, os.WriteFile(filepath.Join(p, ownerFile), []byte(d.owner), 0o644))
				}
			}
			rep, err := Sweep(context.Background(), SweepOptions{All: all, TempRoot: root})
			require.NoError(t, err)
			var want []string
			for _, d := range dirs {
				gone := d.removed
				if all {
					gone = d.removedAll
				}
				_, err := os.Stat(filepath.Join(root, d.name))
				if gone {
					require.True(t, errors.Is(err, os.ErrNotExist), "%s removed", d.name)
					want = append(want, filepath.Join(root, d.name))
				} else {
					require.NoError(t, err, "%s kept", d.name)
				}
			}
			require.ElementsMatch(t, want, rep.TempDirs)
		})
	}
}

func TestRunTempDirAndClose(t *testing.T) {
	r, err := NewRun()
	require.NoError(t, err)
	require.Regexp(t, `^rv[0-9a-f]{8}$`, r.ID)
	require.Equal(t, map[string]string{LabelRun: r.ID, LabelOwner: SelfOwner()}, r.Labels())

	d, err := r.TempDir("test")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(filepath.Base(d), TempPrefix+r.ID+"-test-"))
	mark, err := os.ReadFile(filepath.Join(d, ownerFile))
	require.NoError(t, err)
	require.Equal(t, SelfOwner(), string(mark))

	var order []string
	r.Defer("first", func(context.Context) error { order = append(order, "first"); return nil })
	c := r.Child("child")
	c.Defer("in child", func(context.Context) error { order = append(order, "in child"); return nil })
	r.Defer("last", func(context.Context) error { order = append(order, "last"); return errors.New("boom") })

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Close must still clean up after a Ctrl-C
	err = r.Close(ctx)
	require.ErrorContains(t, err, "clean up last: boom")
	require.Equal(t, []string{"last", "in child", "first"}, order)
	_, err = os.Stat(d)
	require.True(t, errors.Is(err, os.ErrNotExist), "temp dir removed at Close")
	require.NoError(t, r.Close(context.Background()), "second Close is a no-op")
	require.Len(t, order, 3)
}
