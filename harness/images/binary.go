package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// binaryDockerfile needs no registry: FROM scratch is built in.
const binaryDockerfile = `FROM scratch
COPY regify-verify /regify-verify
ENTRYPOINT ["/regify-verify"]
`

// BinaryOptions say which regify-verify binary goes into the image.
type BinaryOptions struct {
	// Binary is a static regify-verify binary; empty means build it from
	// ModuleDir with CGO_ENABLED=0.
	Binary string
	// ModuleDir is the module root; empty means the nearest directory
	// upwards from the working directory that holds go.mod.
	ModuleDir string
	// Docker is an engine client; nil means NewDockerClient.
	Docker *client.Client
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// EnsureBinary returns the tag of a FROM scratch image holding the static
// regify-verify binary, tagged by the binary's hash, building the image when
// that tag is absent.
func EnsureBinary(ctx context.Context, o BinaryOptions) (string, error) {
	log := logger(o.Log)
	bin := o.Binary
	if bin == "" && o.ModuleDir == "" {
		// Outside the repository, a static regify-verify running now
		// (make build makes one) goes into the image as it is.
		if _, err := moduleRoot(); err != nil {
			self, serr := StaticSelf()
			if serr != nil {
				return "", fmt.Errorf("%w; and this executable cannot go into the image: %v", err, serr)
			}
			bin = self
		}
	}
	if bin == "" {
		tmp, err := os.MkdirTemp("", "regify-verify-bin-")
		if err != nil {
			return "", fmt.Errorf("temp dir for the binary: %w", err)
		}
		defer os.RemoveAll(tmp)
		bin = filepath.Join(tmp, "regify-verify")
		if err := BuildStatic(ctx, o.ModuleDir, bin); err != nil {
			return "", err
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("read the regify-verify binary: %w", err)
	}
	sum := sha256.Sum256(data)
	tag := BinaryRepo + ":" + hex.EncodeToString(sum[:])[:16]
	cli := o.Docker
	if cli == nil {
		c, err := NewDockerClient(ctx)
		if err != nil {
			return "", err
		}
		defer c.Close()
		cli = c
	}
	ok, err := imageExists(ctx, cli, tag)
	if err != nil || ok {
		return tag, err
	}
	start := time.Now()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{{"Dockerfile", 0o644, []byte(binaryDockerfile)}, {"regify-verify", 0o755, data}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: time.Unix(0, 0)}); err != nil {
			return "", err
		}
		if _, err := tw.Write(f.body); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{
		Tags: []string{tag}, Dockerfile: "Dockerfile", Remove: true, ForceRemove: true,
		Labels: map[string]string{"io.regify-verify.image": "binary"},
	})
	if err != nil {
		return "", fmt.Errorf("docker build of the binary image: %w", err)
	}
	defer res.Body.Close()
	if err := readJSONStream(res.Body); err != nil {
		return "", fmt.Errorf("docker build of the binary image: %w", err)
	}
	log.Info("binary image built", "tag", tag, "took", time.Since(start).Round(time.Millisecond))
	return tag, nil
}

// StaticSelf is this executable when it is a static regify-verify binary
// (no program interpreter: it runs FROM scratch).
func StaticSelf() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this executable: %w", err)
	}
	if !strings.HasPrefix(filepath.Base(self), "regify-verify") || strings.HasSuffix(self, ".test") {
		return "", fmt.Errorf("%s is not the regify-verify binary", self)
	}
	f, err := elf.Open(self)
	if err != nil {
		return "", fmt.Errorf("%s: %w", self, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%s is linked dynamically; build it with CGO_ENABLED=0 (make build does)", self)
		}
	}
	return self, nil
}

// BuildStatic builds ./cmd/regify-verify of the module in dir (empty: found
// upwards from the working directory) as a static binary at out.
func BuildStatic(ctx context.Context, dir, out string) error {
	if dir == "" {
		d, err := moduleRoot()
		if err != nil {
			return err
		}
		dir = d
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("build the regify-verify binary: the go command is not on PATH; install Go or pass a prebuilt static binary")
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out, "./cmd/regify-verify")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var tail tailBuffer
	cmd.Stdout, cmd.Stderr = &tail, &tail
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the regify-verify binary in %s: %v\n%s", dir, err, tail.String())
	}
	return nil
}

// moduleRoot finds this module's root from the working directory upwards.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/regify-verify/regify-verify") {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("build the regify-verify binary: not inside the regify-verify module; run from the repository or pass the binary")
		}
		d = parent
	}
}
