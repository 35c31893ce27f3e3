package mariadb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/regify-verify/regify-verify/dbobserve"
	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/images"
)

// DockerOptions configure the docker backend.
type DockerOptions struct {
	// Image is a local MariaDB image (images.EnsureMariaDB) or one the
	// engine can pull (mariadb:11.4).
	Image string
	// Config is the pair's topology; zero fields get Defaults.
	Config Config
	// Run gives labels and names; nil makes a run of the pair's own.
	Run *cleanup.Run
	// Docker is the engine client; nil connects from the environment.
	Docker *client.Client
	Log    *slog.Logger
}

// Docker is the docker backend: each server on the default bridge (which
// carries the published port the host uses) and on an internal replication
// network (which carries only replication, so cutting it leaves the
// application's access intact).
type Docker struct {
	opts DockerOptions
	// image is what the servers start from: opts.Image, or the same with
	// its datadir initialised (images.ReadyImage).
	image   string
	cfg     Config
	run     *cleanup.Run
	cli     *client.Client
	ownCli  bool
	log     *slog.Logger
	core    *sqlCore
	replNet string
	// replIPs are the servers' addresses on replNet (docker_replnet.go).
	replIPs [2]netip.Addr

	cutMu sync.Mutex // serialises Cut/Heal; never held with mu inside SQL calls
	mu    sync.Mutex
	ctrs  [2]*testcontainers.DockerContainer
	ends  [2]*ending // each container's removal, run once
	host  string
	addrs [2]string
	cut   bool
}

// NewDocker prepares a docker pair; Up starts it.
func NewDocker(o DockerOptions) (*Docker, error) {
	if o.Image == "" {
		return nil, errors.New("docker pair: no image (build one with images.EnsureMariaDB or pass --mariadb-image)")
	}
	d := &Docker{opts: o, cfg: o.Config.Defaults(), log: o.Log}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if o.Run != nil {
		d.run = o.Run.Child("mariadb pair")
	} else {
		r, err := cleanup.NewRun()
		if err != nil {
			return nil, err
		}
		d.run = r
	}
	d.core = &sqlCore{cfg: d.cfg, addr: d.Addr, masterOf: func(s Side) (string, int) { return d.replIPs[s.Other()].String(), 3306 }}
	return d, nil
}

func alias(s Side) string { return "mariadb-" + s.String() }

// Up implements Pair.
func (d *Docker) Up(ctx context.Context) error {
	PrepareEnv()
	if d.opts.Docker != nil {
		d.cli = d.opts.Docker
	} else {
		cli, err := images.NewDockerClient(ctx)
		if err != nil {
			return err
		}
		d.cli, d.ownCli = cli, true
		d.run.Defer("docker client", func(context.Context) error { return cli.Close() })
	}
	if err := images.CheckMariaDB(ctx, d.cli, d.opts.Image); err != nil {
		return err
	}
	// A server from an image with the datadir initialised starts in a
	// second instead of four (images.ReadyImage).
	image, err := images.ReadyImage(ctx, d.cli, d.opts.Image, d.env(), d.cfg.initSQL(), d.run.Labels(), d.log)
	if err != nil {
		return err
	}
	d.image = image
	d.replNet = d.run.Name("repl")
	if d.replIPs, err = d.createReplNet(ctx); err != nil {
		return err
	}
	net := d.replNet
	d.run.Defer("network "+net, func(ctx context.Context) error {
		_, err := d.cli.NetworkRemove(ctx, net, client.NetworkRemoveOptions{})
		return err
	})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for _, s := range Sides {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[s] = d.startContainer(ctx, s)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, s := range Sides {
		if err := d.core.waitSQL(ctx, s, d.cfg.ReadyTimeout); err != nil {
			return err
		}
	}
	if err := d.core.setupReplication(ctx); err != nil {
		return fmt.Errorf("set up replication: %w", err)
	}
	return d.core.waitReplicating(ctx, d.cfg.ReplTimeout)
}

// env is what the image's entrypoint initialises the datadir with.
func (d *Docker) env() map[string]string {
	return map[string]string{
		"MARIADB_ROOT_PASSWORD": d.cfg.RootPassword, "MYSQL_ROOT_PASSWORD": d.cfg.RootPassword,
		"MARIADB_DATABASE": d.cfg.Database, "MYSQL_DATABASE": d.cfg.Database,
		"MARIADB_USER": d.cfg.AppUser, "MYSQL_USER": d.cfg.AppUser,
		"MARIADB_PASSWORD": d.cfg.AppPassword, "MYSQL_PASSWORD": d.cfg.AppPassword,
	}
}

func (d *Docker) startContainer(ctx context.Context, s Side) error {
	env := d.env()
	ctr, err := testcontainers.Run(ctx, d.image,
		testcontainers.WithName(d.run.Name("mariadb", s.String())),
		testcontainers.WithLabels(d.run.Labels()),
		testcontainers.WithEnv(env),
		testcontainers.WithExposedPorts("3306/tcp"),
		testcontainers.WithFiles(
			testcontainers.ContainerFile{Reader: strings.NewReader(d.cfg.ServerConfig(s)), ContainerFilePath: "/etc/mysql/conf.d/zz-regify-verify.cnf", FileMode: 0o644},
			testcontainers.ContainerFile{Reader: strings.NewReader(d.cfg.initSQL()), ContainerFilePath: "/docker-entrypoint-initdb.d/10-regify-verify.sql", FileMode: 0o644},
		),
		tcnetwork.WithBridgeNetwork(),
		// Attached before it starts, at its fixed address (testcontainers
		// attaches a second network by alias only).
		testcontainers.WithLifecycleHooks(testcontainers.ContainerLifecycleHooks{
			PreStarts: []testcontainers.ContainerHook{func(ctx context.Context, c testcontainers.Container) error {
				return d.connectRepl(ctx, c.GetContainerID(), s)
			}},
		}),
		// The final server is the only one listening on 3306 (the init
		// server of an entrypoint logs "port: 0"; MySQL X logs 33060).
		testcontainers.WithWaitStrategy(wait.ForLog(`port: 3306\s`).AsRegexp().WithStartupTimeout(d.cfg.ReadyTimeout)),
	)
	if ctr != nil {
		end := &ending{ctr: ctr}
		d.run.Defer("container mariadb-"+s.String(), end.remove)
		d.mu.Lock()
		d.ctrs[s], d.ends[s] = ctr, end
		d.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("start MariaDB side %s from image %s: %w (is the image present? run 'regify-verify images build'; see the container log: docker logs %s)", s, d.image, err, d.run.Name("mariadb", s.String()))
	}
	host, err := ctr.Host(ctx)
	if err != nil {
		return fmt.Errorf("docker host address: %w", err)
	}
	d.mu.Lock()
	d.host = host
	d.mu.Unlock()
	return d.refreshAddr(ctx, s)
}

// refreshAddr re-reads the host port of side s: it changes on every start.
func (d *Docker) refreshAddr(ctx context.Context, s Side) error {
	id := d.id(s)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			return fmt.Errorf("inspect side %s: %w", s, err)
		}
		if ns := res.Container.NetworkSettings; ns != nil {
			for _, b := range ns.Ports[network.MustParsePort("3306/tcp")] {
				if b.HostPort != "" {
					d.mu.Lock()
					d.addrs[s] = net.JoinHostPort(d.host, b.HostPort)
					d.mu.Unlock()
					return nil
				}
			}
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("side %s has no published port for 3306", s)
		}
	}
}

func (d *Docker) id(s Side) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctrs[s] == nil {
		return ""
	}
	return d.ctrs[s].GetContainerID()
}

// Addr implements Pair.
func (d *Docker) Addr(_ context.Context, s Side) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.addrs[s] == "" {
		return "", fmt.Errorf("side %s is not up", s)
	}
	return d.addrs[s], nil
}

// DSN implements Pair.
func (d *Docker) DSN(ctx context.Context, s Side) (string, error) { return d.core.appDSN(ctx, s) }

// ContainerID is the Docker id of side s (for faults beyond this API).
func (d *Docker) ContainerID(s Side) string { return d.id(s) }

// Kill implements Pair.
func (d *Docker) Kill(ctx context.Context, s Side) error {
	d.core.forget(s)
	if _, err := d.cli.ContainerKill(ctx, d.id(s), client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		return fmt.Errorf("kill side %s: %w", s, err)
	}
	return nil
}

// Stop implements Pair.
func (d *Docker) Stop(ctx context.Context, s Side) error {
	d.core.forget(s)
	t := 30
	if _, err := d.cli.ContainerStop(ctx, d.id(s), client.ContainerStopOptions{Timeout: &t}); err != nil {
		return fmt.Errorf("stop side %s: %w", s, err)
	}
	return nil
}

// Start implements Pair: a raw start (testcontainers' wait strategy would
// re-read old log lines), the new host port, then SQL polling.
func (d *Docker) Start(ctx context.Context, s Side) error {
	d.core.forget(s)
	if _, err := d.cli.ContainerStart(ctx, d.id(s), client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start side %s: %w", s, err)
	}
	if err := d.refreshAddr(ctx, s); err != nil {
		return err
	}
	return d.core.waitSQL(ctx, s, d.cfg.ReadyTimeout)
}

// Pause implements Pair.
func (d *Docker) Pause(ctx context.Context, s Side) error {
	if _, err := d.cli.ContainerPause(ctx, d.id(s), client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("pause side %s: %w", s, err)
	}
	return nil
}

// Unpause implements Pair.
func (d *Docker) Unpause(ctx context.Context, s Side) error {
	if _, err := d.cli.ContainerUnpause(ctx, d.id(s), client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("unpause side %s: %w", s, err)
	}
	return nil
}

// CutReplication implements Pair: side A leaves the internal replication
// network, which breaks the link both ways; the bridge with the published
// ports stays. Only one side moves; it comes back at its fixed address.
func (d *Docker) CutReplication(ctx context.Context) error {
	d.cutMu.Lock()
	defer d.cutMu.Unlock()
	if d.cut {
		return nil
	}
	if _, err := d.cli.NetworkDisconnect(ctx, d.replNet, client.NetworkDisconnectOptions{Container: d.id(A), Force: true}); err != nil {
		return fmt.Errorf("cut replication: disconnect side a: %w", err)
	}
	d.cut = true
	return nil
}

// HealReplication implements Pair: reconnect side A at the address side
// B's replica uses as MASTER_HOST, then restart both IO threads: one that tried
// to connect during the cut may sit in a long connect or DNS timeout.
func (d *Docker) HealReplication(ctx context.Context) error {
	d.cutMu.Lock()
	defer d.cutMu.Unlock()
	if !d.cut {
		return nil
	}
	if err := d.connectRepl(ctx, d.id(A), A); err != nil {
		return fmt.Errorf("heal replication: %w", err)
	}
	d.cut = false
	for _, s := range Sides {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = d.core.exec(rctx, s, "STOP SLAVE IO_THREAD")
		err := d.core.exec(rctx, s, "START SLAVE IO_THREAD")
		cancel()
		if err != nil {
			return fmt.Errorf("heal replication: restart replica IO thread: %w", err)
		}
	}
	return nil
}

// StopReplica implements Pair.
func (d *Docker) StopReplica(ctx context.Context, s Side) error { return d.core.stopReplica(ctx, s) }

// StartReplica implements Pair.
func (d *Docker) StartReplica(ctx context.Context, s Side) error { return d.core.startReplica(ctx, s) }

// SetReplicationDelay implements Pair.
func (d *Docker) SetReplicationDelay(ctx context.Context, s Side, delay time.Duration) error {
	return d.core.setDelay(ctx, s, delay)
}

// Status implements Pair.
func (d *Docker) Status(ctx context.Context) (Status, error) { return d.core.status(ctx) }

// Observer implements Pair.
func (d *Docker) Observer() *dbobserve.Observer { return d.core.observer() }

// Checksum implements Pair.
func (d *Docker) Checksum(ctx context.Context, tables ...string) (Checksums, error) {
	return d.core.checksum(ctx, tables...)
}

// Lag implements Pair.
func (d *Docker) Lag(ctx context.Context, from Side) (time.Duration, error) {
	return d.core.lag(ctx, from)
}

// WaitConverged implements Pair.
func (d *Docker) WaitConverged(ctx context.Context, tables []string, timeout time.Duration) error {
	return d.core.waitConverged(ctx, tables, timeout)
}

// Close implements Pair: unpause (a paused container cannot be removed
// cleanly), then remove containers and the network.
func (d *Docker) Close(ctx context.Context) error {
	d.core.closeAll()
	if d.cli != nil {
		for _, s := range Sides {
			if id := d.id(s); id != "" {
				if res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil && res.Container.State != nil && res.Container.State.Status == container.StatePaused {
					_, _ = d.cli.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{})
				}
			}
		}
	}
	// Both containers go at once (each takes about half a second); the
	// run's own cleanup then finds them removed and reports any error.
	d.mu.Lock()
	ends := d.ends
	d.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range ends {
		if e != nil {
			wg.Go(func() { _ = e.remove(ctx) })
		}
	}
	wg.Wait()
	return d.run.Close(ctx)
}

// ending removes one container once, however often it is asked to.
type ending struct {
	ctr  *testcontainers.DockerContainer
	once sync.Once
	err  error
}

func (e *ending) remove(ctx context.Context) error {
	e.once.Do(func() {
		e.err = e.ctr.Terminate(ctx, testcontainers.StopTimeout(0), testcontainers.RemoveVolumes())
	})
	return e.err
}

var _ Pair = (*Docker)(nil)
