// Package testbin builds the regify-verify binary for tests whose labs
// start it as a child process (provider processes), and points
// harness.EnvBinary at it. A test binary cannot be that child itself.
package testbin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Setenv builds regify-verify into a fresh temporary directory (with the
// module's build cache a few seconds) and sets REGIFY_VERIFY_BIN to it,
// unless it is set already. The returned cleanup removes the directory.
func Setenv() (cleanup func(), err error) {
	const env = "REGIFY_VERIFY_BIN" // harness.EnvBinary; no import cycle for callers
	if os.Getenv(env) != "" {
		return func() {}, nil
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("find the module: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return nil, fmt.Errorf("find the module: not inside it")
	}
	dir, err := os.MkdirTemp("", "regify-verify-testbin-")
	if err != nil {
		return nil, fmt.Errorf("temp dir for the test binary: %w", err)
	}
	bin := filepath.Join(dir, "regify-verify")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/regify-verify")
	cmd.Dir = filepath.Dir(mod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build ./cmd/regify-verify: %w: %s", err, stderr.String())
	}
	if err := os.Setenv(env, bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return func() { os.Unsetenv(env); os.RemoveAll(dir) }, nil
}
