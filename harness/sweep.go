package harness

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/moby/moby/client"

	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
)

// Sweep removes what crashed runs of ours left behind (containers,
// networks, volumes, temp dirs; found by our label only). With all it also
// removes those of runs still alive, except this process's own. It returns
// how many objects it removed. Without a Docker engine it sweeps temp dirs.
func Sweep(ctx context.Context, all bool, log *slog.Logger) (int, error) {
	PrepareEnv()
	o := cleanup.SweepOptions{All: all, Log: log}
	if cli, err := images.NewDockerClient(ctx); err == nil {
		defer cli.Close()
		o.Docker = cli
	}
	rep, err := cleanup.Sweep(ctx, o)
	n := len(rep.Services) + len(rep.Containers) + len(rep.Networks) + len(rep.Volumes) + len(rep.TempDirs)
	if rep.LeftSwarm {
		n++
	}
	return n, err
}

// Owned lists the containers and networks this process created and has not
// removed yet: after a lab is closed it must be empty. Without a Docker
// engine there is nothing to list.
func Owned(ctx context.Context) ([]string, error) {
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		return nil, nil
	}
	defer cli.Close()
	f := make(client.Filters).Add("label", cleanup.LabelOwner+"="+cleanup.SelfOwner())
	var out []string
	cl, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list our containers: %w", err)
	}
	for _, c := range cl.Items {
		out = append(out, "container "+strings.Join(c.Names, ","))
	}
	nl, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list our networks: %w", err)
	}
	for _, n := range nl.Items {
		out = append(out, "network "+n.Name)
	}
	return out, nil
}
