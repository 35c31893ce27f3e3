package cleanup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// SweepOptions say what Sweep removes.
type SweepOptions struct {
	// All removes the objects of live runs too (lab down --all), except the
	// calling process's own.
	All bool
	// Docker is the engine client; nil sweeps temp dirs only.
	Docker *client.Client
	// TempRoot is where temp dirs live; empty means os.TempDir().
	TempRoot string
	Log      *slog.Logger

	// scope, "key=value", narrows the Docker listings to objects that also
	// carry that label, so that tests see only the objects they made.
	scope string
}

// SweepReport says what Sweep removed.
type SweepReport struct {
	Containers, Networks, Volumes, TempDirs []string
	// Services are swarm services (the agents of --engine swarm).
	Services []string
	// LeftSwarm says the engine left a swarm a killed run initialised.
	LeftSwarm bool
	// Kept counts objects of live runs that were left alone.
	Kept int
}

// Sweep removes containers, networks, volumes and temp dirs of our runs
// whose owning process is dead (or of every other run with All). Only
// objects carrying our run label, or temp dirs with our prefix and owner
// mark, are ever touched.
func Sweep(ctx context.Context, o SweepOptions) (SweepReport, error) {
	var rep SweepReport
	var errs []error
	self := SelfOwner()
	doomed := func(owner string) bool { return doomed(owner, self, o.All) }
	if o.Docker != nil {
		f := make(client.Filters).Add("label", LabelRun)
		if o.scope != "" {
			f = f.Add("label", o.scope)
		}
		// Services first: their containers go with them.
		if err := sweepServices(ctx, o.Docker, f, doomed, &rep); err != nil {
			errs = append(errs, err)
		}
		cl, err := o.Docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			return rep, fmt.Errorf("list containers of regify-verify runs: %w", err)
		}
		for _, c := range cl.Items {
			if !doomed(c.Labels[LabelOwner]) {
				rep.Kept++
				continue
			}
			if _, err := o.Docker.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
				continue
			}
			rep.Containers = append(rep.Containers, strings.TrimPrefix(firstName(c.Names), "/"))
		}
		nl, err := o.Docker.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		if err != nil {
			return rep, fmt.Errorf("list networks of regify-verify runs: %w", err)
		}
		// A config-only network goes after the networks made from it,
		// which carry no labels (Docker refuses them there).
		slices.SortStableFunc(nl.Items, func(a, b network.Summary) int {
			return cmp.Compare(btoi(a.ConfigOnly), btoi(b.ConfigOnly))
		})
		for _, n := range nl.Items {
			if !doomed(n.Labels[LabelOwner]) {
				rep.Kept++
				continue
			}
			if n.ConfigOnly {
				rep.Networks = append(rep.Networks, removeConfigUsers(ctx, o.Docker, n.Name, &errs)...)
			}
			if _, err := o.Docker.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
				continue
			}
			rep.Networks = append(rep.Networks, n.Name)
		}
		// Last the swarm a killed run initialised, once its services
		// and networks are gone.
		if o.scope == "" {
			left, err := sweepSwarm(ctx, o.Docker, doomed)
			rep.LeftSwarm = left
			if err != nil {
				errs = append(errs, err)
			}
		}
		vl, err := o.Docker.VolumeList(ctx, client.VolumeListOptions{Filters: f})
		if err != nil {
			return rep, fmt.Errorf("list volumes of regify-verify runs: %w", err)
		}
		for _, v := range vl.Items {
			if !doomed(v.Labels[LabelOwner]) {
				rep.Kept++
				continue
			}
			if _, err := o.Docker.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
				continue
			}
			rep.Volumes = append(rep.Volumes, v.Name)
		}
	}
	root := o.TempRoot
	if root == "" {
		root = os.TempDir()
	}
	dirs, _ := filepath.Glob(filepath.Join(root, TempPrefix+"rv*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not marked: not provably ours
		}
		if !doomed(string(b)) {
			rep.Kept++
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("remove temp dir %s: %w", d, err))
			continue
		}
		rep.TempDirs = append(rep.TempDirs, d)
	}
	if o.Log != nil {
		o.Log.Info("sweep", "services", len(rep.Services), "containers", len(rep.Containers), "networks", len(rep.Networks),
			"volumes", len(rep.Volumes), "tempdirs", len(rep.TempDirs), "left_swarm", rep.LeftSwarm, "kept", rep.Kept)
	}
	return rep, errors.Join(errs...)
}

// sweepServices removes the swarm services of doomed runs. An engine that
// manages no swarm has none: its refusal to list them is not an error.
func sweepServices(ctx context.Context, cli *client.Client, f client.Filters, doomed func(string) bool, rep *SweepReport) error {
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return fmt.Errorf("read the engine's swarm state: %w", err)
	}
	if !info.Info.Swarm.ControlAvailable {
		return nil
	}
	sl, err := cli.ServiceList(ctx, client.ServiceListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list swarm services of regify-verify runs: %w", err)
	}
	var errs []error
	for _, sv := range sl.Items {
		if !doomed(sv.Spec.Labels[LabelOwner]) {
			rep.Kept++
			continue
		}
		if _, err := cli.ServiceRemove(ctx, sv.ID, client.ServiceRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove swarm service %s: %w", sv.Spec.Name, err))
			continue
		}
		rep.Services = append(rep.Services, sv.Spec.Name)
	}
	return errors.Join(errs...)
}

// doomed says whether Sweep removes an object of ours whose owner label is
// owner: never the calling process's own, with all every other one, else
// only those whose owning process is gone.
func doomed(owner, self string, all bool) bool {
	if owner == self {
		return false
	}
	if all {
		return true
	}
	return !ownerAlive(owner)
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// removeConfigUsers removes the networks whose configuration comes from
// the config-only network cfg (a swarm-scoped lab network's) and returns
// their names; failures go to errs.
func removeConfigUsers(ctx context.Context, cli *client.Client, cfg string, errs *[]error) []string {
	all, err := cli.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		*errs = append(*errs, fmt.Errorf("list networks made from %s: %w", cfg, err))
		return nil
	}
	var out []string
	for _, n := range all.Items {
		if n.ConfigFrom.Network != cfg {
			continue
		}
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			*errs = append(*errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		out = append(out, n.Name)
	}
	return out
}
