package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/agents"
)

// cmdAgents groups what concerns agents run elsewhere; today the
// Kubernetes manifest.
func cmdAgents(ctx context.Context, e *env, args []string) error {
	const usage = "Usage: regify-verify agents manifest --agents N --image IMAGE [--run-id ID] [--namespace NS] [--port 7000]"
	if len(args) == 0 {
		return usageError{errors.New("agents: name a sub-command: manifest\n" + usage)}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stdout, usage)
		return nil
	}
	if args[0] != "manifest" {
		return usageError{fmt.Errorf("agents %s: unknown sub-command; try: regify-verify agents manifest --help", args[0])}
	}
	fs := newFlags(e, "agents manifest", "agents manifest --agents N --image IMAGE [--run-id ID] [--namespace NS] [--port 7000]")
	n := fs.Int("agents", 0, "agents: pods of the Indexed Job, one agent each")
	image := fs.String("image", "", "the regify-verify image the cluster pulls ('images build' makes one FROM scratch)")
	runID := fs.String("run-id", "", "names and labels the objects (default: a new run id)")
	namespace := fs.String("namespace", "", "namespace of the objects (default: the one kubectl uses)")
	port := fs.Int("port", 7000, "the coordinator's agent port, behind the Service")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *runID == "" {
		*runID = scenarios.NewRunID()
	}
	b, err := agents.Manifest(agents.ManifestOptions{Agents: *n, Image: *image, RunID: *runID, Namespace: *namespace, Port: *port})
	if err != nil {
		return usageError{err}
	}
	_, err = e.stdout.Write(b)
	return err
}
