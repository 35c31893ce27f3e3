package agents

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"

	"github.com/regify-verify/regify-verify/harness"
)

// Local runs each agent as a child process of this one (`regify-verify
// agent`), its wire over the child's standard input and output. The
// agents share this machine's clock and its loopback addresses: each
// user keeps its own source address, as in a run without agents.
type Local struct{}

// Name implements Engine.
func (Local) Name() string { return "local" }

// Start implements Engine.
func (Local) Start(ctx context.Context, t Task) (Conn, error) {
	bin, err := harness.Binary()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "agent")
	// Its own process group (a terminal's Ctrl-C is ours to handle);
	// Pdeathsig ends it if we die without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", t.Agent, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", t.Agent, err)
	}
	c := &localConn{cmd: cmd, in: in, out: out, stderr: &harness.LastWords{Max: 2048}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start agent %s (%s agent): %w", t.Agent, bin, err)
	}
	return c, nil
}

type localConn struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    io.Reader
	stderr *harness.LastWords
}

func (c *localConn) In() io.WriteCloser { return c.in }
func (c *localConn) Out() io.Reader     { return c.out }
func (c *localConn) Kill() error        { return c.cmd.Process.Kill() }

// Wait waits for the child; its last words come with a failure.
func (c *localConn) Wait() error {
	if err := c.cmd.Wait(); err != nil {
		if s := c.stderr.String(); s != "" {
			return fmt.Errorf("%w: %s", err, s)
		}
		return err
	}
	return nil
}
