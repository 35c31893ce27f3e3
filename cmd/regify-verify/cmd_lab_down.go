package main

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
)

// labDown sweeps what runs of ours left behind: swarm services,
// containers, networks and volumes carrying our run label, our marked
// temp dirs, and a swarm a killed run initialised. Without --all
// only dead runs are swept; --all also removes the objects of live runs.
func labDown(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "lab down", "lab down [--all]")
	all := fs.Bool("all", false, "also remove the objects of runs that are still alive")
	if err := parse(fs, args); err != nil {
		return err
	}
	o := cleanup.SweepOptions{All: *all, Log: e.log}
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		e.log.Warn("no Docker engine: sweeping temp dirs only", "err", err)
	} else {
		defer cli.Close()
		o.Docker = cli
	}
	rep, err := cleanup.Sweep(ctx, o)
	fmt.Fprintf(e.stdout, "removed %d swarm services, %d containers, %d networks, %d volumes, %d temp dirs; kept %d objects of live runs\n",
		len(rep.Services), len(rep.Containers), len(rep.Networks), len(rep.Volumes), len(rep.TempDirs), rep.Kept)
	if rep.LeftSwarm {
		fmt.Fprintln(e.stdout, "left the swarm a killed run had initialised (--swarm-init)")
	}
	return err
}
