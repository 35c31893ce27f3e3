package images

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCachedLdd: ldd runs once per program version; a program changed
// (size or time) or a cached answer naming a library that is gone runs it
// again; no cache directory runs it every time.
func TestCachedLdd(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	lib := filepath.Join(dir, "libx.so.1")
	require.NoError(t, os.WriteFile(prog, []byte("\x7fELF v1"), 0o755))
	require.NoError(t, os.WriteFile(lib, []byte("lib"), 0o644))
	runs := 0
	run := func(p string) (string, error) {
		runs++
		return "\tlibx.so.1 => " + lib + " (0x00007f)\n", nil
	}
	ldd := cachedLdd(filepath.Join(dir, "cache"), run)

	for range 3 {
		out, err := ldd(prog)
		require.NoError(t, err)
		assert.Contains(t, out, lib)
	}
	assert.Equal(t, 1, runs, "answered from the cache after the first run")

	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(prog, later, later))
	_, err := ldd(prog)
	require.NoError(t, err)
	assert.Equal(t, 2, runs, "a program with another modification time is asked again")

	require.NoError(t, os.Remove(lib))
	_, err = ldd(prog)
	require.NoError(t, err)
	assert.Equal(t, 3, runs, "a cached answer naming a library that is gone is not used")

	plain := cachedLdd("", run)
	_, _ = plain(prog)
	_, _ = plain(prog)
	assert.Equal(t, 5, runs, "without a cache directory ldd runs every time")
}
