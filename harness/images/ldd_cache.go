package images

import (
	"fmt"
	"os"
	"path/filepath"
)

// cachedLdd wraps run (ldd) with a cache on disk under dir, keyed by the
// program's path, size and modification time: resolving the host image
// runs ldd on a few dozen programs, 1.3 s of every process that starts a
// MariaDB pair, for an answer that changes only when a package does. A
// cached answer naming a library that is gone is not used. With dir
// empty it is run itself.
func cachedLdd(dir string, run func(path string) (string, error)) func(string) (string, error) {
	if dir == "" {
		return run
	}
	return func(p string) (string, error) {
		fi, err := os.Stat(p)
		if err != nil {
			return run(p)
		}
		file := filepath.Join(dir, "ldd", hashOf([]byte(p), fmt.Appendf(nil, "%d/%d", fi.Size(), fi.ModTime().UnixNano())))
		if b, err := os.ReadFile(file); err == nil && librariesPresent(string(b)) {
			return string(b), nil
		}
		out, err := run(p)
		if err != nil {
			return "", err
		}
		// Best effort: a cache that cannot be written only costs time.
		_ = writeFileAtomic(file, []byte(out))
		return out, nil
	}
}

// librariesPresent reports whether every path an ldd output names exists.
func librariesPresent(out string) bool {
	libs, err := parseLdd(out)
	if err != nil {
		return false
	}
	for _, l := range libs {
		if _, err := os.Stat(l); err != nil {
			return false
		}
	}
	return true
}

// writeFileAtomic writes b to file through a temporary file and a rename,
// so that a concurrent reader sees the old content or the new, never half.
func writeFileAtomic(file string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
