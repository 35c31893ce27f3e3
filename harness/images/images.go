// Package images builds the container images the lab needs without any
// registry: a MariaDB image and a FROM scratch image of the static
// regify-verify binary. The MariaDB image is imported from this machine's
// own mariadbd (its libraries, data files and a small shell toolbox; in
// seconds) when it has one, else from a debootstrap rootfs (minutes).
// Images are tagged by a hash of what built them and are rebuilt only when
// that tag is absent.
package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Repository names of the images this package builds.
const (
	MariaDBRepo = "regify-verify/mariadb"
	BinaryRepo  = "regify-verify/binary"
)

// ErrNoDocker means the Docker engine could not be reached.
var ErrNoDocker = errors.New("docker engine not reachable")

// NewDockerClient connects to the Docker engine named by the environment
// (DOCKER_HOST or the default socket) and checks that it answers. The API
// version is negotiated, never pinned.
func NewDockerClient(ctx context.Context) (*client.Client, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v; start Docker (systemctl start docker) or use the process backend", ErrNoDocker, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx, client.PingOptions{}); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("%w at %s: %v; start Docker (systemctl start docker), check DOCKER_HOST, or use the process backend", ErrNoDocker, cli.DaemonHost(), err)
	}
	return cli, nil
}

// imageExists reports whether ref is present in the local engine.
func imageExists(ctx context.Context, cli *client.Client, ref string) (bool, error) {
	_, err := cli.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("inspect image %s: %w", ref, err)
}

// CacheDir is where rootfs tarballs are kept between runs:
// $XDG_CACHE_HOME/regify-verify, else ~/.cache/regify-verify.
func CacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "regify-verify"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache directory (set XDG_CACHE_HOME): %w", err)
	}
	return filepath.Join(d, "regify-verify"), nil
}

// hashOf returns a short hex digest of the parts, each length-prefixed so
// that moving bytes between parts changes the hash.
func hashOf(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
