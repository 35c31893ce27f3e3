package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lddMariadbd is ldd's output for mariadbd on Debian 12 (merged /usr),
// shortened.
const lddMariadbd = `	linux-vdso.so.1 (0x00007f5130119000)
	libpcre2-8.so.0 => /lib/x86_64-linux-gnu/libpcre2-8.so.0 (0x00007f513006e000)
	libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f512dc87000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f512d41e000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f513011b000)
`

// lddLibc is ldd's output for most small programs.
const lddLibc = `	linux-vdso.so.1 (0x00007ffd5b3e4000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2d6c81e000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f2d6d5fa000)
`

func TestParseLdd(t *testing.T) {
	got, err := parseLdd(lddMariadbd)
	require.NoError(t, err)
	require.Equal(t, []string{
		"/lib/x86_64-linux-gnu/libpcre2-8.so.0", "/lib/x86_64-linux-gnu/libssl.so.3",
		"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2",
	}, got, "the vDSO is skipped, the loader kept")

	got, err = parseLdd("\tlinux-gate.so.1 =>  (0xb7f7b000)\n\tlibc.so.6 => /lib/libc.so.6 (0xb7e1b000)\n")
	require.NoError(t, err)
	require.Equal(t, []string{"/lib/libc.so.6"}, got, "an old-style vDSO line with an arrow and no file")

	for _, out := range []string{"\tstatically linked\n", "\tnot a dynamic executable\n", ""} {
		got, err = parseLdd(out)
		require.NoError(t, err)
		require.Empty(t, got)
	}

	_, err = parseLdd("\tlibgone.so.1 => not found\n" + lddLibc)
	require.ErrorContains(t, err, "libgone.so.1 not found")
}

func TestParseSource(t *testing.T) {
	for in, want := range map[string]Source{"": SourceAuto, "auto": SourceAuto, "host": SourceHost, " Debootstrap ": SourceDebootstrap} {
		got, err := ParseSource(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ParseSource("docker")
	require.ErrorContains(t, err, "want host, debootstrap or auto")
}

func TestShortVersion(t *testing.T) {
	require.Equal(t, "10.11.19", shortVersion("Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"))
	require.Equal(t, "11.4.5", shortVersion("/usr/sbin/mariadbd  Ver 11.4.5-MariaDB-ubu2404 for debian-linux-gnu"))
	require.Equal(t, "unknown", shortVersion("+++"))
	require.Equal(t, "10.11.19-MariaDB-0+deb12u1", labelVersion("Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu"))
}

// fakeHost lays out a small merged-/usr machine under a temporary root and
// answers ldd from a table.
type fakeHost struct {
	t    *testing.T
	root string
	ldd  map[string]string
}

func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, root: t.TempDir(), ldd: map[string]string{}}
	h.symlink("bin", "usr/bin")
	h.symlink("sbin", "usr/sbin")
	h.symlink("lib", "usr/lib")
	h.symlink("lib64", "usr/lib64")
	h.file("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "\x7fELF loader", 0o755)
	h.symlink("usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
	h.file("usr/lib/x86_64-linux-gnu/libc.so.6", "\x7fELF libc", 0o755)
	h.file("usr/lib/x86_64-linux-gnu/libpcre2-8.so.0.11.2", "\x7fELF pcre", 0o644)
	h.symlink("usr/lib/x86_64-linux-gnu/libpcre2-8.so.0", "libpcre2-8.so.0.11.2")
	h.file("usr/lib/x86_64-linux-gnu/libssl.so.3", "\x7fELF ssl", 0o644)
	h.file("usr/lib/x86_64-linux-gnu/libunused.so.1", "\x7fELF nobody needs me", 0o644)
	h.elf("usr/sbin/mariadbd", lddMariadbd)
	h.symlink("usr/sbin/mysqld", "mariadbd")
	h.elf("usr/bin/mariadb", lddLibc)
	h.file("usr/bin/mariadb-install-db", "#!/bin/sh\necho install\n", 0o755)
	h.elf("usr/bin/my_print_defaults", lddLibc)
	h.elf("usr/bin/resolveip", lddLibc)
	h.elf("usr/bin/bash", lddLibc)
	h.elf("usr/bin/dash", lddLibc)
	h.symlink("usr/bin/sh", "dash")
	for _, n := range []string{"mkdir", "chown", "chmod", "seq", "sleep", "sed", "cat", "dirname", "uname", "rm", "mawk", "gzip"} {
		h.elf("usr/bin/"+n, lddLibc)
	}
	h.symlink("etc/alternatives/awk", "/usr/bin/mawk")
	h.symlink("usr/bin/awk", "/etc/alternatives/awk")
	h.file("usr/bin/gunzip", "#!/bin/sh\nexec gzip -d \"$@\"\n", 0o755)
	h.file("usr/share/mysql/english/errmsg.sys", "errors", 0o644)
	h.file("usr/share/mysql/charsets/Index.xml", "<charsets/>", 0o644)
	h.file("usr/share/mysql/mysql_system_tables.sql", "CREATE TABLE t (a INT);", 0o644)
	h.file("usr/share/doc/mariadb/README", "not copied", 0o644)
	return h
}

func (h *fakeHost) file(name, body string, mode os.FileMode) {
	p := filepath.Join(h.root, name)
	require.NoError(h.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(h.t, os.WriteFile(p, []byte(body), mode))
	require.NoError(h.t, os.Chmod(p, mode))
}

func (h *fakeHost) elf(name, ldd string) {
	h.file(name, "\x7fELF "+name, 0o755)
	h.ldd["/"+name] = ldd
}

func (h *fakeHost) symlink(name, target string) {
	p := filepath.Join(h.root, name)
	require.NoError(h.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(h.t, os.Symlink(target, p))
}

func (h *fakeHost) fs() hostFS {
	return hostFS{root: h.root, ldd: func(p string) (string, error) {
		out, ok := h.ldd[p]
		if !ok {
			return "", fmt.Errorf("fake ldd: no output for %s", p)
		}
		return out, nil
	}}
}

func (h *fakeHost) tree() *tree {
	h.t.Helper()
	tr, err := buildHostTree(h.fs())
	require.NoError(h.t, err)
	return tr
}

func TestBuildHostTree(t *testing.T) {
	h := newFakeHost(t)
	tr := h.tree()
	has := func(name string, typ byte) *treeEntry {
		t.Helper()
		e, ok := tr.entries[name]
		require.True(t, ok, "%s missing from the tree", name)
		require.Equal(t, string(typ), string(e.typ), name)
		return e
	}
	link := func(name, target string) {
		t.Helper()
		require.Equal(t, target, has(name, tar.TypeSymlink).link, name)
	}
	// The server, its libraries and the loader, through the merged-/usr
	// symlinks, as symlinks.
	has("usr/sbin/mariadbd", tar.TypeReg)
	link("usr/sbin/mysqld", "mariadbd")
	link("lib", "usr/lib")
	link("lib64", "usr/lib64")
	link("usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
	has("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", tar.TypeReg)
	link("usr/lib/x86_64-linux-gnu/libpcre2-8.so.0", "libpcre2-8.so.0.11.2")
	require.Equal(t, int64(0o644), has("usr/lib/x86_64-linux-gnu/libpcre2-8.so.0.11.2", tar.TypeReg).mode)
	has("usr/lib/x86_64-linux-gnu/libssl.so.3", tar.TypeReg)
	has("usr/lib/x86_64-linux-gnu/libc.so.6", tar.TypeReg)
	require.NotContains(t, tr.entries, "usr/lib/x86_64-linux-gnu/libunused.so.1", "only what ldd names")
	// The scripts' interpreter through /bin, the alternatives chain.
	has("usr/bin/mariadb-install-db", tar.TypeReg)
	link("bin", "usr/bin")
	link("usr/bin/sh", "dash")
	has("usr/bin/dash", tar.TypeReg)
	link("usr/bin/awk", "/etc/alternatives/awk")
	link("etc/alternatives/awk", "/usr/bin/mawk")
	has("usr/bin/mawk", tar.TypeReg)
	has("usr/bin/gunzip", tar.TypeReg)
	// The data files, and nothing else of /usr/share.
	has("usr/share/mysql/english/errmsg.sys", tar.TypeReg)
	has("usr/share/mysql/charsets/Index.xml", tar.TypeReg)
	has("usr/share/mysql/mysql_system_tables.sql", tar.TypeReg)
	require.NotContains(t, tr.entries, "usr/share/doc/mariadb/README")
	// The image's own files.
	require.Equal(t, entrypointScript, has("usr/local/bin/docker-entrypoint.sh", tar.TypeReg).body)
	require.Equal(t, int64(0o755), tr.entries["usr/local/bin/docker-entrypoint.sh"].mode)
	require.Contains(t, string(has("etc/passwd", tar.TypeReg).body), mysqlPasswd)
	require.Contains(t, string(has("etc/group", tar.TypeReg).body), mysqlGroup)
	require.Equal(t, []byte(serverCnf), has("etc/mysql/mariadb.conf.d/10-regify-verify.cnf", tar.TypeReg).body)
	require.Equal(t, []byte(myCnf), has("etc/mysql/my.cnf", tar.TypeReg).body)
	has("etc/mysql/conf.d/.keep", tar.TypeReg)
	has("docker-entrypoint-initdb.d/.keep", tar.TypeReg)
	require.Equal(t, 999, has("run/mysqld", tar.TypeDir).uid)
	require.Equal(t, 999, has("var/lib/mysql", tar.TypeDir).uid)
	require.Equal(t, int64(0o1777), has("tmp", tar.TypeDir).mode)
	for _, p := range tr.programs {
		require.True(t, strings.HasPrefix(p, "/usr/sbin/") || strings.HasPrefix(p, "/usr/bin/"), p)
	}
}

func TestBuildHostTreeFails(t *testing.T) {
	t.Run("no mariadbd", func(t *testing.T) {
		h := newFakeHost(t)
		require.NoError(t, os.Remove(filepath.Join(h.root, "usr/sbin/mariadbd")))
		require.NoError(t, os.Remove(filepath.Join(h.root, "usr/sbin/mysqld")))
		_, err := buildHostTree(h.fs())
		require.ErrorContains(t, err, "mariadbd or mysqld not found")
	})
	t.Run("a library ldd cannot find", func(t *testing.T) {
		h := newFakeHost(t)
		h.ldd["/usr/sbin/mariadbd"] = "\tlibgone.so.1 => not found\n" + lddLibc
		_, err := buildHostTree(h.fs())
		require.ErrorContains(t, err, "libgone.so.1 not found")
	})
	t.Run("no error messages", func(t *testing.T) {
		h := newFakeHost(t)
		require.NoError(t, os.RemoveAll(filepath.Join(h.root, "usr/share/mysql")))
		_, err := buildHostTree(h.fs())
		require.ErrorContains(t, err, "english/errmsg.sys")
	})
}

// TestHostTreeTar writes the tree and reads it back: parents first, the
// links as links, host files with their content.
func TestHostTreeTar(t *testing.T) {
	h := newFakeHost(t)
	tr := h.tree()
	var buf bytes.Buffer
	require.NoError(t, tr.write(h.fs(), &buf))
	r := tar.NewReader(&buf)
	seen := map[string]*tar.Header{}
	bodies := map[string]string{}
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		name := strings.TrimSuffix(strings.TrimPrefix(hdr.Name, "./"), "/")
		if parent := filepath.Dir(name); parent != "." {
			require.Contains(t, seen, parent, "%s before its parent", name)
		}
		seen[name] = hdr
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		bodies[name] = string(b)
	}
	require.Len(t, seen, len(tr.entries))
	require.Equal(t, "\x7fELF usr/sbin/mariadbd", bodies["usr/sbin/mariadbd"])
	require.Equal(t, "usr/lib64", seen["lib64"].Linkname)
	require.Equal(t, byte(tar.TypeSymlink), seen["lib64"].Typeflag)
	require.Equal(t, 999, seen["var/lib/mysql"].Uid)
	require.Equal(t, string(entrypointScript), bodies["usr/local/bin/docker-entrypoint.sh"])

	// A host file that changes between planning and writing fails the
	// write instead of producing an image that its tag does not describe.
	h.file("usr/sbin/mariadbd", "\x7fELF a much bigger mariadbd", 0o755)
	require.ErrorContains(t, tr.write(h.fs(), io.Discard), "changed while the image was built")
}

func TestHostTagKey(t *testing.T) {
	const v = "Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"
	h := newFakeHost(t)
	tr := h.tree()
	tag := hostTag(v, tr)
	require.True(t, strings.HasPrefix(tag, MariaDBRepo+":host-10.11.19-"), tag)
	require.Equal(t, tag, hostTag(v, h.tree()), "the same host gives the same tag")

	require.NotEqual(t, tag, hostTag("Ver 10.11.20-MariaDB-0+deb12u1 for debian-linux-gnu", tr), "another mariadbd version")
	require.NotEqual(t, tag, hostTag("Ver 10.11.19-MariaDB-0+deb12u2 for debian-linux-gnu", tr), "another build of the same version")

	// An upgraded library (another size) changes the tag.
	h.file("usr/lib/x86_64-linux-gnu/libssl.so.3", "\x7fELF ssl, patched", 0o644)
	require.NotEqual(t, tag, hostTag(v, h.tree()), "another libssl")
	// So does a new modification time of the same size.
	h2 := newFakeHost(t)
	tag2 := hostTag(v, h2.tree())
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(h2.root, "usr/sbin/mariadbd"), later, later))
	require.NotEqual(t, tag2, hostTag(v, h2.tree()), "mariadbd touched")

	// The source kind: a debootstrap tag is a bare digest, whatever the
	// suite; a host tag never is.
	for _, suite := range []string{"", "bookworm", "trixie", "noble"} {
		dt := MariaDBTag(MariaDBOptions{Source: SourceDebootstrap, Suite: suite})
		require.Equal(t, debootstrapTag(MariaDBOptions{Suite: suite}), dt)
		require.NotContains(t, dt, ":host-")
		require.NotEqual(t, tag, dt)
	}
}

// TestHostPlanFresh: a cached plan is reused only while its host files are
// unchanged.
func TestHostPlanFresh(t *testing.T) {
	h := newFakeHost(t)
	p := &hostPlan{fs: h.fs(), tree: h.tree()}
	require.True(t, p.fresh())
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(h.root, "usr/lib/x86_64-linux-gnu/libc.so.6"), later, later))
	require.False(t, p.fresh())
}

// An optional program that cannot be copied is left out, with nothing of
// it in the tree.
func TestBuildHostTreeSkipsBrokenOptional(t *testing.T) {
	h := newFakeHost(t)
	h.elf("usr/bin/grep", "\tlibpcre-gone.so.3 => not found\n"+lddLibc)
	h.file("usr/lib/x86_64-linux-gnu/libonlygrep.so.1", "\x7fELF", 0o644)
	h.ldd["/usr/bin/grep"] = "\tlibonlygrep.so.1 => /lib/x86_64-linux-gnu/libonlygrep.so.1 (0x1)\n\tlibpcre-gone.so.3 => not found\n"
	tr := h.tree()
	require.NotContains(t, tr.entries, "usr/bin/grep")
	require.NotContains(t, tr.entries, "usr/lib/x86_64-linux-gnu/libonlygrep.so.1")
	require.Contains(t, tr.entries, "usr/bin/gzip", "the other optional programs stay")
}
