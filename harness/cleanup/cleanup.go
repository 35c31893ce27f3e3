// Package cleanup owns what a run leaves behind. The testcontainers reaper
// is off (no registry can serve its image), so every container, network,
// volume and temp dir a run creates carries the run's id and owner, and the
// run removes them at Close; Sweep removes what a crashed run of ours left.
package cleanup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
)

// Labels put on every Docker object a run creates.
const (
	LabelRun   = "io.regify-verify.run"   // the run id
	LabelOwner = "io.regify-verify.owner" // "<hostname>/<pid>/<process start ticks>"
)

// TempPrefix starts the name of every temp dir a run creates.
const TempPrefix = "regify-verify-"

// ownerFile inside a run's temp dir names its owner, like LabelOwner.
const ownerFile = ".regify-verify-owner"

// Run is one harness run: its id, the labels of its objects and the
// clean-up actions to take at Close, in reverse order of registration.
type Run struct {
	ID    string
	owner string

	mu    sync.Mutex
	undo  []func(context.Context) error
	names []string
	done  bool
}

// NewRun makes a run with a fresh id ("rv" + 8 hex digits: short enough to
// go into container names).
func NewRun() (*Run, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make a run id: %w", err)
	}
	return &Run{ID: "rv" + hex.EncodeToString(b[:]), owner: SelfOwner()}, nil
}

// RunOf is the run with a given id (a lab's, which names everything it
// makes), owned by this process.
func RunOf(id string) *Run { return &Run{ID: id, owner: SelfOwner()} }

// Labels are the labels for a Docker object of this run.
func (r *Run) Labels() map[string]string {
	return map[string]string{LabelRun: r.ID, LabelOwner: r.owner}
}

// Name gives an object name that contains the run id.
func (r *Run) Name(parts ...string) string {
	return "regify-verify-" + r.ID + "-" + strings.Join(parts, "-")
}

// Defer registers a clean-up action; Close runs them newest first.
func (r *Run) Defer(name string, f func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.undo = append(r.undo, f)
	r.names = append(r.names, name)
}

// TempDir makes a temp dir of this run, marked with its owner so that Sweep
// can tell a dead run's dir from a live one, and removed at Close.
func (r *Run) TempDir(purpose string) (string, error) {
	d, err := os.MkdirTemp("", TempPrefix+r.ID+"-"+purpose+"-")
	if err != nil {
		return "", fmt.Errorf("make temp dir for %s: %w", purpose, err)
	}
	if err := os.WriteFile(filepath.Join(d, ownerFile), []byte(r.owner), 0o644); err != nil {
		os.RemoveAll(d)
		return "", fmt.Errorf("mark temp dir %s: %w", d, err)
	}
	r.Defer("temp dir "+d, func(context.Context) error { return os.RemoveAll(d) })
	return d, nil
}

// Close runs every clean-up action once, newest first, even after ctx is
// cancelled (a Ctrl-C must still clean up), each with its own deadline.
func (r *Run) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return nil
	}
	r.done = true
	undo, names := r.undo, r.names
	r.mu.Unlock()
	base := context.WithoutCancel(ctx)
	var errs []error
	for i := len(undo) - 1; i >= 0; i-- {
		c, cancel := context.WithTimeout(base, 30*time.Second)
		if err := undo[i](c); err != nil {
			errs = append(errs, fmt.Errorf("clean up %s: %w", names[i], err))
		}
		cancel()
	}
	return errors.Join(errs...)
}

// SelfOwner identifies this process across pid reuse.
func SelfOwner() string {
	h, _ := os.Hostname()
	pid := os.Getpid()
	return fmt.Sprintf("%s/%d/%d", h, pid, startTicks(pid))
}

// ownerAlive reports whether the process named by an owner string still
// runs. Owners from another host are treated as alive (never ours to judge).
func ownerAlive(owner string) bool {
	parts := strings.Split(owner, "/")
	if len(parts) != 3 {
		return false
	}
	h, _ := os.Hostname()
	if parts[0] != h {
		return true
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil {
		return false
	}
	ticks, _ := strconv.ParseUint(parts[2], 10, 64)
	now := startTicks(pid)
	return now != 0 && now == ticks
}

// startTicks is field 22 of /proc/<pid>/stat (start time since boot), or 0
// when the process does not exist.
func startTicks(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }

// Child is a run with the same id and labels but its own clean-up stack,
// closed by its own Close or, at the latest, by the parent's Close.
func (r *Run) Child(name string) *Run {
	c := &Run{ID: r.ID, owner: r.owner}
	r.Defer(name, c.Close)
	return c
}
