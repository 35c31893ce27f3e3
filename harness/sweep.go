package harness

import (
	"context"
	"log/slog"

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
	n := len(rep.Containers) + len(rep.Networks) + len(rep.Volumes) + len(rep.TempDirs)
	return n, err
}
