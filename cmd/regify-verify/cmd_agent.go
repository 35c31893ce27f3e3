package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/regify-verify/regify-verify/scenarios/agents"
)

// cmdAgent is a load agent. Started by a coordinator on this machine (run
// --agents N) it gets its task on standard input and writes its requests
// to standard output. With --coordinator it connects to a coordinator
// instead, as agent --index (1, 2, …; in a Kubernetes Indexed Job the
// pod's JOB_COMPLETION_INDEX + 1).
func cmdAgent(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "agent", "agent [--coordinator URL --index N]   (started by 'regify-verify run --agents N', or pointed at a coordinator)")
	coordinator := fs.String("coordinator", "", "the coordinator's agent URL, e.g. http://coordinator:7000; empty: talk over standard input and output")
	index := fs.Int("index", 0, "this agent's number, 1 to N; 0 takes JOB_COMPLETION_INDEX+1 (Kubernetes Indexed Job)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: an agent's task comes from its coordinator", fs.Arg(0))}
	}
	if *coordinator == "" {
		return agents.Serve(ctx, e.stdin, e.stdout, e.log)
	}
	i := *index
	if i == 0 {
		v, err := strconv.Atoi(os.Getenv("JOB_COMPLETION_INDEX"))
		if err != nil {
			return usageError{fmt.Errorf("--coordinator needs --index N (1, 2, …) or JOB_COMPLETION_INDEX in the environment")}
		}
		i = v + 1
	}
	in, out, err := agents.Dial(ctx, *coordinator, i)
	if err != nil {
		return err
	}
	defer in.Close()
	err = agents.Serve(ctx, in, out, e.log)
	out.Close()
	return err
}
