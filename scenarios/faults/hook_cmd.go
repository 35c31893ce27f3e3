package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxHookOutput bounds what is kept of a hook's output.
const maxHookOutput = 16 << 10

// runHook runs an operator's shell command with a timeout. The command gets
// its own process group, so a timeout or Ctrl-C ends everything it started,
// not just the shell. It returns the command's combined output (the tail
// of it when long).
func runHook(ctx context.Context, name, phase, command string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = append(os.Environ(), "REGIFY_VERIFY_FAULT="+name, "REGIFY_VERIFY_PHASE="+phase)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The negative pid is the process group the command leads.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := strings.TrimSpace(out.String())
	switch {
	case err == nil:
		return text, nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return text, fmt.Errorf("%s hook of fault %s did not finish within %s (killed)", phase, name, timeout)
	case ctx.Err() != nil:
		return text, fmt.Errorf("%s hook of fault %s interrupted: %w", phase, name, ctx.Err())
	}
	return text, fmt.Errorf("%s hook of fault %s failed: %w%s", phase, name, err, lastLine(text))
}

func lastLine(s string) string {
	if s == "" {
		return ""
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return ": " + clipLine(s)
}

// clipLine shortens one line of a hook's output quoted in an error.
func clipLine(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// tailBuffer keeps the last maxHookOutput bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - maxHookOutput; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
