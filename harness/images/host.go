package images

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// Source is where the MariaDB image's files come from.
type Source string

const (
	// SourceAuto is SourceHost when this machine has a usable mariadbd
	// (the process backend needs mariadb-server anyway), else
	// SourceDebootstrap.
	SourceAuto Source = ""
	// SourceHost copies the machine's own mariadbd, its shared libraries
	// (ldd), its data files and a small shell toolbox into a FROM scratch
	// tree: seconds, no network.
	SourceHost Source = "host"
	// SourceDebootstrap builds a Debian/Ubuntu rootfs with debootstrap
	// (cached as a tarball): minutes from nothing, needs a mirror.
	SourceDebootstrap Source = "debootstrap"
)

// SourceEnv chooses the source when MariaDBOptions.Source is empty:
// "host", "debootstrap" or "auto".
const SourceEnv = "REGIFY_VERIFY_MARIADB_SOURCE"

// ParseSource reads a source name: host, debootstrap, or auto/"".
func ParseSource(s string) (Source, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return SourceAuto, nil
	case "host":
		return SourceHost, nil
	case "debootstrap":
		return SourceDebootstrap, nil
	}
	return "", fmt.Errorf("mariadb image source %q: want host, debootstrap or auto", s)
}

// hostBinDirs are searched, in order, for the programs of the host image.
// Only the standard directories: they are on the image's PATH and
// mariadb-install-db expects /usr/bin and /usr/sbin.
var hostBinDirs = []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// hostRequired are the programs the image cannot work without: each entry
// lists names of which the first found is taken. The entrypoint runs bash
// and mkdir, chown, seq, sleep, sed, mariadb-install-db and the client;
// mariadb-install-db (a /bin/sh script) runs my_print_defaults, resolveip,
// uname, dirname, cat, chmod, awk and mariadbd --bootstrap.
var hostRequired = [][]string{
	{"mariadbd", "mysqld"},
	{"mariadb", "mysql"},
	{"mariadb-install-db", "mysql_install_db"},
	{"my_print_defaults", "mariadb-print-defaults"},
	{"resolveip", "mariadb-resolveip"},
	{"bash"}, {"sh"},
	{"mkdir"}, {"chown"}, {"chmod"}, {"seq"}, {"sleep"}, {"sed"}, {"cat"},
	{"dirname"}, {"uname"}, {"awk"}, {"rm"},
}

// hostOptional are copied when present: the old names, the tools an
// initdb.d script or someone debugging in the container reaches for
// first, and gzip for *.sql.gz.
var hostOptional = []string{
	"mysqld", "mysql", "mysql_install_db",
	"gzip", "gunzip", "zcat", "basename", "env", "id", "ls", "ln", "cp", "mv",
	"touch", "head", "tail", "tr", "grep", "printf", "echo", "true", "false",
	"test", "[", "expr", "hostname", "date", "ps", "kill",
}

// hostDataDirs are the server's data files (errmsg.sys, charsets, the
// bootstrap SQL): /usr/share/mysql on 10.x Debian, /usr/share/mariadb on
// newer packages. At least one must hold english/errmsg.sys.
var hostDataDirs = []string{"/usr/share/mysql", "/usr/share/mariadb"}

// hostOptionalTrees are copied when present: the C.UTF-8 locale the image's
// LANG names.
var hostOptionalTrees = []string{"/usr/lib/locale/C.utf8"}

// hostPasswd and hostGroup are the image's whole account files; the mysql
// lines are those of the debootstrap image.
const (
	hostPasswd = "root:x:0:0:root:/root:/bin/bash\n" + mysqlPasswd +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	hostGroup = "root:x:0:\n" + mysqlGroup + "nogroup:x:65534:\n"
	// hostNsswitch keeps glibc off NSS modules the image does not have.
	hostNsswitch = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
)

// hostImportChanges are importChanges plus an explicit PATH (a FROM
// scratch image has none of its own) and labels naming the source.
func hostImportChanges(version string) []string {
	return append(append([]string(nil), importChanges...),
		`ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
		`LABEL io.regify-verify.image=mariadb io.regify-verify.source=host io.regify-verify.mariadb-version=`+labelVersion(version),
	)
}

// hostFS is what the tree builder reads of the machine: a root directory
// (/ in use, a temporary tree in tests) and ldd.
type hostFS struct {
	root string
	// ldd returns the output of ldd for a host path (in the root).
	ldd func(path string) (string, error)
}

func (h hostFS) real(p string) string { return path.Join(h.root, p) }

func (h hostFS) lstat(p string) (fs.FileInfo, error) { return os.Lstat(h.real(p)) }

func (h hostFS) readlink(p string) (string, error) { return os.Readlink(h.real(p)) }

func (h hostFS) readDir(p string) ([]fs.DirEntry, error) { return os.ReadDir(h.real(p)) }

func (h hostFS) head(p string, n int) ([]byte, error) {
	f, err := os.Open(h.real(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:k], nil
}

// runLdd runs the machine's ldd.
func runLdd(p string) (string, error) {
	out, err := exec.Command("ldd", p).CombinedOutput()
	s := string(out)
	if err != nil {
		if strings.Contains(s, "not a dynamic executable") {
			return s, nil
		}
		return "", fmt.Errorf("ldd %s: %v: %s", p, err, strings.TrimSpace(s))
	}
	return s, nil
}

// parseLdd returns the absolute paths ldd resolved, the dynamic loader
// included, in its order. The vDSO (no file) is skipped; a library ldd did
// not find is an error.
func parseLdd(out string) ([]string, error) {
	var paths []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.Contains(line, "statically linked") || strings.Contains(line, "not a dynamic executable") {
			continue
		}
		name, target, arrow := strings.Cut(line, "=>")
		if arrow {
			target = strings.TrimSpace(target)
			if strings.HasPrefix(target, "not found") {
				return nil, fmt.Errorf("ldd: %s not found", strings.TrimSpace(name))
			}
			if f := strings.Fields(target); len(f) > 0 && strings.HasPrefix(f[0], "/") {
				paths = append(paths, f[0])
			}
			continue // "linux-vdso.so.1 =>  (0x…)" on some systems
		}
		if f := strings.Fields(name); len(f) > 0 && strings.HasPrefix(f[0], "/") {
			paths = append(paths, f[0]) // the loader: "/lib64/ld-linux-x86-64.so.2 (0x…)"
		}
	}
	return paths, sc.Err()
}

// treeEntry is one file of the image.
type treeEntry struct {
	name    string // relative to /, no leading slash
	typ     byte   // tar.TypeDir, TypeReg or TypeSymlink
	mode    int64
	uid     int
	link    string    // symlink target, as on the host
	src     string    // host path of a regular file's content
	body    []byte    // generated content (src == "")
	size    int64     // of src
	modTime time.Time // of src
}

// tree is the image's file tree, by name.
type tree struct {
	entries map[string]*treeEntry
	// programs are the host paths of the programs found, for the log.
	programs []string
}

// treeBuilder materialises host paths into a tree: every symlink on the
// way (/lib64 -> usr/lib64 on merged-/usr systems, /etc/alternatives …) is
// kept as a symlink and its target copied too.
type treeBuilder struct {
	fs      hostFS
	t       *tree
	libsFor map[string]bool
}

func newTreeBuilder(h hostFS) *treeBuilder {
	return &treeBuilder{fs: h, t: &tree{entries: map[string]*treeEntry{}}, libsFor: map[string]bool{}}
}

func (b *treeBuilder) put(e *treeEntry) {
	if _, ok := b.t.entries[e.name]; !ok {
		b.t.entries[e.name] = e
	}
}

// addPath copies host path p (absolute) into the tree, following symlinks
// in every component, and returns the path it finally names.
func (b *treeBuilder) addPath(p string) (string, error) {
	return b.addPathDepth(path.Clean("/"+p), 0)
}

func (b *treeBuilder) addPathDepth(p string, depth int) (string, error) {
	if depth > 40 {
		return "", fmt.Errorf("%s: too many levels of symbolic links", p)
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i, comp := range parts {
		if comp == "" {
			continue
		}
		next := path.Join(cur, comp)
		fi, err := b.fs.lstat(next)
		if err != nil {
			return "", err
		}
		name := strings.TrimPrefix(next, "/")
		last := i == len(parts)-1
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := b.fs.readlink(next)
			if err != nil {
				return "", err
			}
			b.put(&treeEntry{name: name, typ: tar.TypeSymlink, mode: 0o777, link: link})
			target := link
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			rest := path.Join(append([]string{target}, parts[i+1:]...)...)
			return b.addPathDepth(rest, depth+1)
		case fi.IsDir():
			b.put(&treeEntry{name: name, typ: tar.TypeDir, mode: tarMode(fi.Mode())})
			cur = next
		case fi.Mode().IsRegular() && last:
			b.put(&treeEntry{name: name, typ: tar.TypeReg, mode: tarMode(fi.Mode()), src: next, size: fi.Size(), modTime: fi.ModTime()})
			return next, nil
		default:
			return "", fmt.Errorf("%s: not a regular file, directory or symlink", next)
		}
	}
	return cur, nil
}

// tarMode is the permission bits of m with setuid, setgid and sticky.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// addTree copies directory p and everything under it.
func (b *treeBuilder) addTree(p string) error {
	real, err := b.addPath(p)
	if err != nil {
		return err
	}
	des, err := b.fs.readDir(real)
	if err != nil {
		return err
	}
	for _, de := range des {
		child := path.Join(real, de.Name())
		if de.IsDir() {
			if err := b.addTree(child); err != nil {
				return err
			}
			continue
		}
		if _, err := b.addPath(child); err != nil {
			return err
		}
	}
	return nil
}

// addProgram copies program p with what it needs to run: an ELF file's
// shared libraries and loader (ldd), a script's interpreter.
func (b *treeBuilder) addProgram(p string) error {
	real, err := b.addPath(p)
	if err != nil {
		return err
	}
	if b.libsFor[real] {
		return nil
	}
	b.libsFor[real] = true
	h, err := b.fs.head(real, 256)
	if err != nil {
		return err
	}
	switch {
	case bytes.HasPrefix(h, []byte("\x7fELF")):
		out, err := b.fs.ldd(real)
		if err != nil {
			return err
		}
		libs, err := parseLdd(out)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, l := range libs {
			if _, err := b.addPath(l); err != nil {
				return fmt.Errorf("%s needs %s: %w", p, l, err)
			}
		}
	case bytes.HasPrefix(h, []byte("#!")):
		line, _, _ := bytes.Cut(h[2:], []byte("\n"))
		f := strings.Fields(string(line))
		if len(f) == 0 {
			return fmt.Errorf("%s: empty #! line", p)
		}
		if err := b.addProgram(f[0]); err != nil {
			return fmt.Errorf("%s: interpreter: %w", p, err)
		}
		if path.Base(f[0]) == "env" && len(f) > 1 {
			if q, ok := b.lookProgram(f[1]); ok {
				return b.addProgram(q)
			}
		}
	}
	return nil
}

// lookProgram finds a program of the given name in hostBinDirs.
func (b *treeBuilder) lookProgram(name string) (string, bool) {
	for _, d := range hostBinDirs {
		p := path.Join(d, name)
		if _, err := b.fs.lstat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// gen adds a generated file, directory or symlink; generated entries win
// over copied ones.
func (b *treeBuilder) gen(e treeEntry) {
	b.t.entries[e.name] = &e
}

// buildHostTree resolves the host image's tree: the programs, their
// libraries, the data files, then the image's own files.
func buildHostTree(h hostFS) (*tree, error) {
	b := newTreeBuilder(h)
	for _, names := range hostRequired {
		found := false
		for _, n := range names {
			if p, ok := b.lookProgram(n); ok {
				if err := b.addProgram(p); err != nil {
					return nil, fmt.Errorf("copy %s: %w", p, err)
				}
				b.t.programs = append(b.t.programs, p)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%s not found in %s", strings.Join(names, " or "), strings.Join(hostBinDirs, ":"))
		}
	}
	for _, n := range hostOptional {
		p, ok := b.lookProgram(n)
		if !ok {
			continue
		}
		// Into a builder of its own first: an optional program that cannot
		// be copied (a dangling link, a library ldd does not find) is
		// left out whole.
		try := &treeBuilder{fs: h, t: &tree{entries: map[string]*treeEntry{}}, libsFor: map[string]bool{}}
		if err := try.addProgram(p); err != nil {
			continue
		}
		for _, e := range try.t.entries {
			b.put(e)
		}
		b.t.programs = append(b.t.programs, p)
	}
	data := false
	for _, d := range hostDataDirs {
		if _, err := h.lstat(path.Join(d, "english", "errmsg.sys")); err != nil {
			continue
		}
		if err := b.addTree(d); err != nil {
			return nil, fmt.Errorf("copy %s: %w", d, err)
		}
		data = true
	}
	if !data {
		return nil, fmt.Errorf("no english/errmsg.sys in %s", strings.Join(hostDataDirs, " or "))
	}
	for _, d := range hostOptionalTrees {
		if fi, err := h.lstat(d); err == nil && fi.IsDir() {
			if err := b.addTree(d); err != nil {
				return nil, fmt.Errorf("copy %s: %w", d, err)
			}
		}
	}
	// The image's own files, as in the debootstrap image.
	for _, d := range []struct {
		name string
		mode int64
		uid  int
	}{
		{"etc", 0o755, 0}, {"etc/mysql", 0o755, 0}, {"etc/mysql/conf.d", 0o755, 0},
		{"etc/mysql/mariadb.conf.d", 0o755, 0}, {"docker-entrypoint-initdb.d", 0o755, 0},
		{"usr", 0o755, 0}, {"usr/local", 0o755, 0}, {"usr/local/bin", 0o755, 0},
		{"tmp", 0o1777, 0}, {"root", 0o700, 0}, {"run", 0o755, 0}, {"run/mysqld", 0o755, 999},
		{"var", 0o755, 0}, {"var/lib", 0o755, 0}, {"var/lib/mysql", 0o755, 999},
		{"var/log", 0o755, 0}, {"var/tmp", 0o1777, 0}, {"dev", 0o755, 0}, {"proc", 0o555, 0}, {"sys", 0o555, 0},
	} {
		if e, ok := b.t.entries[d.name]; ok && e.typ != tar.TypeDir {
			continue // a symlink on the host (/var/run …): keep it
		}
		b.gen(treeEntry{name: d.name, typ: tar.TypeDir, mode: d.mode, uid: d.uid})
	}
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{
		{"etc/passwd", 0o644, []byte(hostPasswd)},
		{"etc/group", 0o644, []byte(hostGroup)},
		{"etc/nsswitch.conf", 0o644, []byte(hostNsswitch)},
		{"etc/mysql/my.cnf", 0o644, []byte(myCnf)},
		{"etc/mysql/mariadb.cnf", 0o644, []byte(myCnf)},
		{"etc/mysql/mariadb.conf.d/10-regify-verify.cnf", 0o644, []byte(serverCnf)},
		{"etc/mysql/conf.d/.keep", 0o644, nil},
		{"docker-entrypoint-initdb.d/.keep", 0o644, nil},
		{"usr/local/bin/docker-entrypoint.sh", 0o755, entrypointScript},
	} {
		b.gen(treeEntry{name: f.name, typ: tar.TypeReg, mode: f.mode, body: f.body})
	}
	return b.t, nil
}

// names returns the tree's names in tar order: a parent before its
// children.
func (t *tree) names() []string {
	ns := make([]string, 0, len(t.entries))
	for n := range t.entries {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// key is a digest of everything the image is made of: each entry's name,
// type, mode, owner, link, and the size and modification time of host
// files (dpkg changes both on an upgrade) or the generated content.
func (t *tree) key() []byte {
	var b bytes.Buffer
	for _, n := range t.names() {
		e := t.entries[n]
		fmt.Fprintf(&b, "%s\x00%c\x00%o\x00%d\x00%s\x00", n, e.typ, e.mode, e.uid, e.link)
		if e.src != "" {
			fmt.Fprintf(&b, "%d\x00%d\n", e.size, e.modTime.UnixNano())
		} else {
			fmt.Fprintf(&b, "%s\n", hashOf(e.body))
		}
	}
	return b.Bytes()
}

// size is the total size of the tree's regular files.
func (t *tree) size() int64 {
	var n int64
	for _, e := range t.entries {
		if e.src != "" {
			n += e.size
		} else {
			n += int64(len(e.body))
		}
	}
	return n
}

// write streams the tree as a tar archive. A host file whose size changed
// since the tree was built fails the write (the tag would be wrong).
func (t *tree) write(h hostFS, w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, n := range t.names() {
		e := t.entries[n]
		hdr := &tar.Header{Typeflag: e.typ, Name: "./" + n, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: e.modTime, Format: tar.FormatPAX}
		if hdr.ModTime.IsZero() {
			hdr.ModTime = time.Unix(0, 0)
		}
		switch e.typ {
		case tar.TypeDir:
			hdr.Name += "/"
		case tar.TypeSymlink:
			hdr.Linkname = e.link
		case tar.TypeReg:
			if e.src != "" {
				hdr.Size = e.size
			} else {
				hdr.Size = int64(len(e.body))
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write %s: %w", n, err)
		}
		if e.typ != tar.TypeReg {
			continue
		}
		if e.src == "" {
			if _, err := tw.Write(e.body); err != nil {
				return fmt.Errorf("write %s: %w", n, err)
			}
			continue
		}
		if err := copyHostFile(tw, h.real(e.src), e.size); err != nil {
			return fmt.Errorf("copy %s: %w", e.src, err)
		}
	}
	return tw.Close()
}

func copyHostFile(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != size {
		return fmt.Errorf("changed while the image was built (size %d, was %d); run again", fi.Size(), size)
	}
	_, err = io.CopyN(w, f, size)
	return err
}

// hostVersionRE takes the version out of "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for …".
var hostVersionRE = regexp.MustCompile(`Ver\s+(\S+)`)

// labelVersion is the full version word: 10.11.19-MariaDB-0+deb12u1.
func labelVersion(v string) string {
	if m := hostVersionRE.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '"' || r == '\\' || r == '=' {
			return -1
		}
		return r
	}, v)
}

// shortVersion is the tag-safe upstream part of a version: 10.11.19.
func shortVersion(v string) string {
	if m := hostVersionRE.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	v, _, _ = strings.Cut(v, "-")
	var b strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 || b.Len() > 40 {
		return "unknown"
	}
	return b.String()
}

// hostTag is the tag of a host-built image: the source kind and the
// mariadbd version in clear, then a digest of the version, the image's
// configuration (entrypoint, config files, import changes) and the tree.
// It never equals a debootstrap tag, which is a bare digest.
func hostTag(version string, t *tree) string {
	return MariaDBRepo + ":" + string(SourceHost) + "-" + shortVersion(version) + "-" + hashOf(
		[]byte(SourceHost), []byte(version), entrypointScript, []byte(myCnf), []byte(serverCnf),
		[]byte(hostPasswd), []byte(hostGroup), []byte(hostNsswitch),
		[]byte(strings.Join(hostImportChanges(version), "\n")), t.key())
}

// hostPlan is a resolved host image: its tree, version and tag.
type hostPlan struct {
	fs      hostFS
	tree    *tree
	version string
	tag     string
}

// planHost resolves the host image from the machine: mariadbd's version and
// the tree. It fails when something the image needs is missing.
func planHost(ctx context.Context) (*hostPlan, error) {
	hostPlans.Lock()
	defer hostPlans.Unlock()
	if p := hostPlans.p; p != nil && p.fresh() {
		return p, nil
	}
	cache, err := CacheDir()
	if err != nil {
		cache = "" // ldd then runs every time
	}
	h := hostFS{root: "/", ldd: cachedLdd(cache, runLdd)}
	if _, err := exec.LookPath("ldd"); err != nil {
		return nil, errors.New("ldd not found")
	}
	b := newTreeBuilder(h)
	mariadbd, ok := b.lookProgram("mariadbd")
	if !ok {
		if mariadbd, ok = b.lookProgram("mysqld"); !ok {
			return nil, fmt.Errorf("no mariadbd in %s (install mariadb-server)", strings.Join(hostBinDirs, ":"))
		}
	}
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(vctx, mariadbd, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", mariadbd, err)
	}
	version := strings.TrimSpace(string(out))
	if !strings.Contains(version, "MariaDB") {
		return nil, fmt.Errorf("%s is not MariaDB (%s): the pair needs MariaDB", mariadbd, version)
	}
	if i := strings.Index(version, "Ver "); i >= 0 {
		version = version[i:] // drop the program's path: mysqld and mariadbd are one
	}
	t, err := buildHostTree(h)
	if err != nil {
		return nil, err
	}
	p := &hostPlan{fs: h, tree: t, version: version, tag: hostTag(version, t)}
	hostPlans.p = p
	return p, nil
}

// hostPlans keeps the last host plan of this process: the harness asks for
// the image at every pair start, and a plan stays good while no host file
// of it changed (a package upgrade changes the size or the time of the
// files it replaces).
var hostPlans struct {
	sync.Mutex
	p *hostPlan
}

// fresh reports whether every host file of the plan is as it was.
func (p *hostPlan) fresh() bool {
	for _, e := range p.tree.entries {
		if e.src == "" {
			continue
		}
		fi, err := p.fs.lstat(e.src)
		if err != nil || fi.Size() != e.size || !fi.ModTime().Equal(e.modTime) {
			return false
		}
	}
	return true
}

// importHost streams the host tree into ImageImport.
func importHost(ctx context.Context, cli *client.Client, p *hostPlan) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(p.tree.write(p.fs, pw)) }()
	res, err := cli.ImageImport(ctx, client.ImageImportSource{Source: pr, SourceName: "-"}, p.tag,
		client.ImageImportOptions{Changes: hostImportChanges(p.version), Message: "regify-verify mariadb from the host's " + shortVersion(p.version)})
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("docker import of the host MariaDB tree: %w", err)
	}
	defer res.Close()
	if err := readJSONStream(res); err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("docker import of the host MariaDB tree: %w", err)
	}
	return nil
}
