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
	index := fs.Int("index", 0, "this agent's number, 1 to N; 0 takes "+agents.EnvAgentIndex+" (a swarm service's task slot) or JOB_COMPLETION_INDEX+1 (Kubernetes Indexed Job)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: an agent's task comes from its coordinator", fs.Arg(0))}
	}
	if *coordinator == "" {
		return agents.Serve(ctx, e.stdin, e.stdout, e.log)
	}
	i, err := agentIndex(*index)
	if err != nil {
		return usageError{err}
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

// agentIndex is --index, else the swarm task's slot, else the Kubernetes
// completion index plus one.
func agentIndex(flag int) (int, error) {
	if flag > 0 {
		return flag, nil
	}
	if v := os.Getenv(agents.EnvAgentIndex); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 1 {
			return 0, fmt.Errorf("%s=%q: want 1, 2, …", agents.EnvAgentIndex, v)
		}
		return i, nil
	}
	v, err := strconv.Atoi(os.Getenv("JOB_COMPLETION_INDEX"))
	if err != nil {
		return 0, fmt.Errorf("--coordinator needs --index N (1, 2, …), %s or JOB_COMPLETION_INDEX in the environment", agents.EnvAgentIndex)
	}
	return v + 1, nil
}
