package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
	"github.com/regify-verify/regify-verify/harness/mariadb"
)

// PrepareEnv sets what testcontainers-go needs on this kind of machine
// (reaper off, host override inside a container). Call it before the first
// container is started; it is idempotent.
func PrepareEnv() { mariadb.PrepareEnv() }

// StartPair builds (if needed) the MariaDB image and brings up a replicating
// master-master pair. With OneWay, master A stops replicating from B: the
// seed's master and slave.
func StartPair(ctx context.Context, o PairOptions, log *slog.Logger) (_ *Pair, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := pairConfig(o)
	backend := o.Backend
	if backend == "" && o.Image == "" {
		// Docker is the default; without it the lab still runs, on two
		// local mariadbd processes. An explicit "docker" (or an image to
		// run) fails instead.
		cli, err := images.NewDockerClient(ctx)
		switch {
		case errors.Is(err, images.ErrNoDocker):
			log.Warn("Docker is not reachable: falling back to the process database backend (two local mariadbd processes)", "cause", err)
			backend = BackendProcess
		case err != nil:
			return nil, err
		default:
			cli.Close()
			backend = BackendDocker
		}
	}
	var p mariadb.Pair
	switch backend {
	case "", BackendDocker:
		PrepareEnv()
		image, err := images.EnsureMariaDB(ctx, images.MariaDBOptions{Image: o.Image, Log: log})
		if err != nil {
			return nil, fmt.Errorf("mariadb image: %w", err)
		}
		run, err := cleanup.NewRun()
		if err != nil {
			return nil, err
		}
		d, err := mariadb.NewDocker(mariadb.DockerOptions{Image: image, Config: cfg, Run: run, Log: log})
		if err != nil {
			_ = run.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("mariadb pair: %w", err)
		}
		p = d
	case BackendProcess:
		pp, err := newProcessPair(cfg, o.Host, log)
		if err != nil {
			return nil, err
		}
		p = pp
	default:
		return nil, fmt.Errorf("database backend %q: want %q or %q", o.Backend, BackendDocker, BackendProcess)
	}
	pair := &Pair{p: p, cfg: cfg, opts: o}
	defer func() {
		if err != nil {
			_ = p.Close(context.WithoutCancel(ctx))
		}
	}()
	if err := p.Up(ctx); err != nil {
		return nil, fmt.Errorf("bring up the mariadb pair: %w", err)
	}
	if o.OneWay {
		if err := p.StopReplica(ctx, mariadb.A); err != nil {
			return nil, fmt.Errorf("make replication one-way: %w", err)
		}
	}
	return pair, nil
}
