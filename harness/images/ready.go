package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// OwnLabel marks the images this package builds; on a MariaDB image it
// also says the entrypoint is ours (entrypoint.sh), which can initialise
// a datadir and stop (ReadyImage).
const OwnLabel = "io.regify-verify.image"

// readyRepo holds the initialised images ReadyImage commits.
const readyRepo = "regify-verify/mariadb-ready"

// readyInitOnly is the file that asks entrypoint.sh to initialise and
// stop; the entrypoint removes it, so the committed image holds none.
const readyInitOnly = "/rv-init-only"

// ReadyImage returns an image of base whose datadir is already
// initialised with env (the root password, the database, the application
// user) and initSQL (the schema), so that a server started from it skips
// mariadb-install-db and its temporary server: a second to start instead
// of four, and about 3 CPU-seconds less per server beside scenarios being
// timed. It is made once, by running base's entrypoint with the
// initialisation alone and committing the stopped container, and found
// again by a hash of base's id, env and initSQL. An image not built here
// (another entrypoint, another flavour: MySQL keeps a server UUID in its
// datadir, which two servers must not share) is returned as it is.
//
// labels go on the short-lived container that initialises (a run's, so
// that a sweep after a killed run finds it).
func ReadyImage(ctx context.Context, cli *client.Client, base string, env map[string]string, initSQL string, labels map[string]string, log *slog.Logger) (string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := cli.ImageInspect(ctx, base)
	if isNotFound(err) {
		return base, nil // the start says it is missing, and how to build it
	}
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", base, err)
	}
	if res.Config == nil || res.Config.Labels[OwnLabel] != "mariadb" {
		return base, nil
	}
	tag := readyRepo + ":" + readyKey(res.ID, env, initSQL)
	if ok, err := imageExists(ctx, cli, tag); err != nil || ok {
		return tag, err
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	unlock, err := buildLock(ctx, dir, "mariadb-ready")
	if err != nil {
		return "", err
	}
	defer unlock()
	if ok, err := imageExists(ctx, cli, tag); err != nil || ok {
		return tag, err
	}
	start := time.Now()
	if err := commitInitialised(ctx, cli, base, tag, env, initSQL, labels); err != nil {
		return "", fmt.Errorf("make the initialised mariadb image %s from %s: %w", tag, base, err)
	}
	log.Info("initialised mariadb image made", "tag", tag, "took", time.Since(start).Round(time.Millisecond))
	return tag, nil
}

// readyKey hashes what the initialised datadir depends on.
func readyKey(baseID string, env map[string]string, initSQL string) string {
	h := sha256.New()
	fmt.Fprintf(h, "ready v1\n%s\n", baseID)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, env[k])
	}
	io.WriteString(h, initSQL)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// commitInitialised runs base's entrypoint with the initialisation alone
// (no network), checks it ended well, and commits the container as tag.
func commitInitialised(ctx context.Context, cli *client.Client, base, tag string, env map[string]string, initSQL string, labels map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	slices.Sort(envList)
	ctrLabels := map[string]string{OwnLabel: "mariadb-init"}
	maps.Copy(ctrLabels, labels)
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: base, Env: envList, Labels: ctrLabels},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	id := created.ID
	defer func() {
		_, _ = cli.ContainerRemove(context.WithoutCancel(ctx), id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	}()
	files, err := tarFiles(map[string]string{
		readyInitOnly[1:]: "",
		"docker-entrypoint-initdb.d/10-regify-verify.sql": initSQL,
	})
	if err != nil {
		return err
	}
	if _, err := cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: files}); err != nil {
		return fmt.Errorf("copy the schema in: %w", err)
	}
	wait := cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	select {
	case err := <-wait.Error:
		return fmt.Errorf("wait for the initialisation: %w", err)
	case r := <-wait.Result:
		if r.StatusCode != 0 {
			return fmt.Errorf("the initialisation exited with %d: %s", r.StatusCode, ContainerLog(ctx, cli, id))
		}
	}
	if _, err := cli.ContainerCommit(ctx, id, client.ContainerCommitOptions{
		Reference: tag, Comment: "regify-verify: " + base + " with an initialised datadir",
		Changes: []string{`LABEL ` + OwnLabel + `=mariadb-ready`},
	}); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// tarFiles packs files (path without the leading slash → content) for
// CopyToContainer; directories are made as needed.
func tarFiles(files map[string]string) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if i := strings.LastIndex(n, "/"); i > 0 && !dirs[n[:i]] {
			dirs[n[:i]] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: n[:i] + "/", Mode: 0o755}); err != nil {
				return nil, fmt.Errorf("pack %s: %w", n, err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n]))}); err != nil {
			return nil, fmt.Errorf("pack %s: %w", n, err)
		}
		if _, err := io.WriteString(tw, files[n]); err != nil {
			return nil, fmt.Errorf("pack %s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return &buf, nil
}

// ContainerLog is the last lines a container wrote, for an error message.
func ContainerLog(ctx context.Context, cli *client.Client, id string) string {
	rc, err := cli.ContainerLogs(context.WithoutCancel(ctx), id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"})
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer rc.Close()
	// The stream is multiplexed (a container without a terminal):
	// both halves go into one text, in order.
	var b bytes.Buffer
	w := &limitWriter{w: &b, n: 8 << 10}
	_, _ = stdcopy.StdCopy(w, w, rc)
	return strings.TrimSpace(b.String())
}

// limitWriter keeps the first n bytes written and drops the rest.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	k := min(len(p), l.n)
	l.n -= k
	if _, err := l.w.Write(p[:k]); err != nil {
		return 0, err
	}
	return len(p), nil
}
