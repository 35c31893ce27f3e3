package main

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/scenarios/agents"
)

// cmdAgent is a load agent: a coordinator (run --agents) starts it, hands
// it its task on standard input and reads its requests on standard output.
func cmdAgent(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "agent", "agent   (started by 'regify-verify run --agents N'; its task comes on standard input)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: an agent's task comes on standard input", fs.Arg(0))}
	}
	return agents.Serve(ctx, e.stdin, e.stdout, e.log)
}
