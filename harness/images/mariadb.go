package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "embed"

	"github.com/moby/moby/client"
)

//go:embed entrypoint.sh
var entrypointScript []byte

// Debian packages and suite of the MariaDB rootfs.
var (
	mariaDBPackages = []string{"mariadb-server-core", "mariadb-client-core"}
)

// myCnf replaces Debian's /etc/mysql/my.cnf: mariadb.conf.d first, conf.d
// last, so a file mounted into conf.d (as testcontainers' mysql module and
// the pair do) overrides the image's defaults.
const myCnf = `# regify-verify: conf.d is read last so a mounted file wins.
[client-server]
socket = /run/mysqld/mysqld.sock

!includedir /etc/mysql/mariadb.conf.d/
!includedir /etc/mysql/conf.d/
`

// serverCnf is the image's own server defaults; anything in conf.d wins.
const serverCnf = `[mysqld]
user = mysql
datadir = /var/lib/mysql
port = 3306
bind-address = 0.0.0.0
skip-name-resolve
log-error = /dev/stderr
`

// Lines added to /etc/passwd and /etc/group: mariadb-server-core does not
// create the mysql user (mariadb-server's postinst does).
const (
	mysqlPasswd = "mysql:x:999:999:MariaDB Server:/nonexistent:/bin/false\n"
	mysqlGroup  = "mysql:x:999:\n"
)

// slimPrefixes are dropped from the rootfs: docs, locales, package caches,
// and the pre-made datadir (the entrypoint makes a fresh one).
var slimPrefixes = []string{
	"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/",
	"usr/share/lintian/", "usr/share/bash-completion/",
	"var/lib/apt/lists/", "var/cache/apt/", "var/cache/debconf/", "var/log/",
	"var/lib/mysql/", "dev/",
}

// importChanges make the imported rootfs a runnable image.
var importChanges = []string{
	`ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]`,
	// Ours: the entrypoint above, which can initialise alone (ReadyImage).
	`LABEL ` + OwnLabel + `=mariadb`,
	`CMD ["mariadbd"]`,
	`EXPOSE 3306`,
	`ENV LANG=C.UTF-8`,
}

// MariaDBOptions say how to get the MariaDB image.
type MariaDBOptions struct {
	// Image, when set, is used as is (for example mariadb:11.4 from a
	// registry the user can reach); nothing is built.
	Image string
	// Source is where a built image's files come from; SourceAuto (empty)
	// takes $REGIFY_VERIFY_MARIADB_SOURCE, else the host's mariadbd when
	// it has one, else debootstrap.
	Source Source
	// Mirror is the Debian archive; empty means DebianMirror().
	// Debootstrap only, like Suite and CacheDir.
	Mirror string
	// Suite is the Debian release; empty means bookworm.
	Suite string
	// CacheDir keeps the rootfs tarball; empty means CacheDir().
	CacheDir string
	// Docker is an engine client; nil means NewDockerClient.
	Docker *client.Client
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// archive is where the rootfs comes from: the machine's distribution (see
// MachineArchive), with the options' mirror and suite put first. The rootfs
// follows the machine, so on Ubuntu the suite is its codename and the image
// tag and rootfs cache name (both hash the suite) tell an Ubuntu-built image
// from a Debian-built one. When no archive is found it is Debian's, and the
// build reports why it has no mirror.
func (o MariaDBOptions) archive() (Archive, error) {
	a, err := MachineArchive()
	if err != nil {
		a = Archive{Distro: "debian", Suite: debianSuite, Components: []string{"main"}}
	}
	if o.Suite != "" {
		a.Suite = o.Suite
	}
	if o.Mirror != "" {
		a.Mirror, err = o.Mirror, nil
	}
	return a, err
}

func (o MariaDBOptions) suite() string {
	a, _ := o.archive()
	return a.Suite
}

// debootstrapArgs builds a minimal rootfs of arch with the MariaDB packages
// in root; the components matter on Ubuntu, where MariaDB is in universe.
func debootstrapArgs(arch Archive, root string) []string {
	args := []string{"--variant=minbase", "--include=" + strings.Join(mariaDBPackages, ",")}
	if len(arch.Components) > 0 {
		args = append(args, "--components="+strings.Join(arch.Components, ","))
	}
	return append(args, arch.Suite, root, arch.Mirror)
}

// rootfsKey names the cached debootstrap tarball: only what debootstrap sees.
func (o MariaDBOptions) rootfsKey() string {
	return hashOf([]byte(o.suite()), []byte(strings.Join(mariaDBPackages, ",")))
}

// MariaDBTag is the tag EnsureMariaDB builds (or finds) for these options:
// for the host source "host-<version>-<hash of the tree>", for debootstrap
// a hash of the entrypoint, the configuration, the slimming rules, the
// package list and the suite. It is empty when the options name a source
// this machine cannot build from.
func MariaDBTag(o MariaDBOptions) string {
	if o.Image != "" {
		return o.Image
	}
	p, err := planMariaDB(context.Background(), o)
	if err != nil {
		return ""
	}
	return p.tag
}

// debootstrapTag is the tag of the debootstrap-built image. Its recipe is
// unchanged since before the host source existed, so images built then
// keep their tags.
func debootstrapTag(o MariaDBOptions) string {
	return MariaDBRepo + ":" + hashOf(
		[]byte(o.rootfsKey()), entrypointScript, []byte(myCnf), []byte(serverCnf),
		[]byte(mysqlPasswd), []byte(strings.Join(slimPrefixes, ",")),
		[]byte(strings.Join(importChanges, "\n")))
}

// mariaDBPlan is what EnsureMariaDB builds: the source, the tag and, for
// the host source, the resolved tree.
type mariaDBPlan struct {
	source Source
	tag    string
	host   *hostPlan
	// why the automatic choice fell back to debootstrap.
	fallback error
}

// source is the requested source: the options', else the environment's.
func (o MariaDBOptions) source() (Source, error) {
	if o.Source != SourceAuto {
		return ParseSource(string(o.Source))
	}
	return ParseSource(os.Getenv(SourceEnv))
}

// planMariaDB picks the source and computes the tag. The host source
// resolves the tree (ldd of a few dozen programs, a stat of each file),
// which takes a fraction of a second.
func planMariaDB(ctx context.Context, o MariaDBOptions) (mariaDBPlan, error) {
	src, err := o.source()
	if err != nil {
		return mariaDBPlan{}, err
	}
	if src == SourceDebootstrap {
		return mariaDBPlan{source: SourceDebootstrap, tag: debootstrapTag(o)}, nil
	}
	hp, err := planHost(ctx)
	if err == nil {
		return mariaDBPlan{source: SourceHost, tag: hp.tag, host: hp}, nil
	}
	if src == SourceHost {
		return mariaDBPlan{}, fmt.Errorf("build the MariaDB image from this machine's mariadbd: %w; install mariadb-server (scripts/setup.sh) or use --from debootstrap", err)
	}
	return mariaDBPlan{source: SourceDebootstrap, tag: debootstrapTag(o), fallback: err}, nil
}

// EnsureMariaDB returns the tag of a local MariaDB image, building it when it
// is absent. From the host (the default when this machine has mariadbd):
// mariadbd, its libraries and data files and a small shell toolbox in a
// FROM scratch tree, then ImageImport; seconds. From debootstrap (cached as
// a tarball under the cache dir): slimming, the entrypoint and
// configuration, then ImageImport; minutes from nothing.
func EnsureMariaDB(ctx context.Context, o MariaDBOptions) (string, error) {
	log := logger(o.Log)
	if o.Image != "" {
		return o.Image, nil
	}
	plan, err := planMariaDB(ctx, o)
	if err != nil {
		return "", err
	}
	tag := plan.tag
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
	if err != nil {
		return "", err
	}
	if ok {
		log.Debug("mariadb image present", "tag", tag)
		return tag, nil
	}
	dir := o.CacheDir
	if dir == "" {
		if dir, err = CacheDir(); err != nil {
			return "", err
		}
	}
	unlock, err := buildLock(ctx, dir, "mariadb-image")
	if err != nil {
		return "", err
	}
	defer unlock()
	// Whoever held the lock before may have built it meanwhile.
	if ok, err := imageExists(ctx, cli, tag); err != nil {
		return "", err
	} else if ok {
		return tag, nil
	}
	start := time.Now()
	if plan.source == SourceHost {
		hp := plan.host
		log.Info("building the mariadb image from this machine's mariadbd", "tag", tag, "version", hp.version,
			"files", len(hp.tree.entries), "bytes", hp.tree.size())
		if err := importHost(ctx, cli, hp); err != nil {
			return "", err
		}
		log.Info("mariadb image built", "tag", tag, "source", SourceHost, "took", time.Since(start).Round(time.Millisecond))
		return tag, nil
	}
	if plan.fallback != nil {
		log.Info("building the mariadb image with debootstrap: this machine's mariadbd cannot be used", "cause", plan.fallback)
	}
	rootfs, err := EnsureRootfs(ctx, o)
	if err != nil {
		return "", err
	}
	log.Info("importing mariadb image", "tag", tag)
	if err := importRootfs(ctx, cli, rootfs, tag); err != nil {
		return "", err
	}
	log.Info("mariadb image built", "tag", tag, "source", SourceDebootstrap, "took", time.Since(start).Round(time.Millisecond))
	return tag, nil
}

// EnsureRootfs returns the path of the cached debootstrap tarball, making it
// when absent. It needs root and debootstrap.
func EnsureRootfs(ctx context.Context, o MariaDBOptions) (string, error) {
	log := logger(o.Log)
	dir := o.CacheDir
	if dir == "" {
		d, err := CacheDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	path := filepath.Join(dir, "rootfs-"+o.suite()+"-"+o.rootfsKey()+".tar")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	deboot, err := exec.LookPath("debootstrap")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/debootstrap"); serr != nil {
			return "", errors.New("build the MariaDB image: debootstrap not found; run scripts/setup.sh or apt-get install debootstrap (or pass --mariadb-image with an image you have)")
		}
		deboot = "/usr/sbin/debootstrap"
	}
	if os.Geteuid() != 0 {
		return "", errors.New("build the MariaDB image: debootstrap needs root; run 'regify-verify images build' as root once (the image is then cached) or pass --mariadb-image")
	}
	arch, err := o.archive()
	if err != nil {
		return "", fmt.Errorf("build the MariaDB image: %w", err)
	}
	mirror := arch.Mirror
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create cache dir: %w", err)
	}
	work, err := os.MkdirTemp(dir, "rootfs-work-")
	if err != nil {
		return "", fmt.Errorf("create rootfs work dir: %w", err)
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "root")
	log.Info("debootstrap", "suite", arch.Suite, "mirror", mirror, "packages", mariaDBPackages)
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(dctx, deboot, debootstrapArgs(arch, root)...)
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the MariaDB image: debootstrap %s from %s failed: %v; check the mirror (DEBIAN_MIRROR or --debian-mirror) and the network; last output:\n%s", arch.Suite, mirror, err, out.String())
	}
	log.Info("debootstrap done", "took", time.Since(start).Round(time.Millisecond))
	tmp := path + ".tmp"
	tarCmd := exec.CommandContext(dctx, "tar", "--numeric-owner", "-C", root, "-cf", tmp, ".")
	if b, err := tarCmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("pack rootfs: %v: %s", err, b)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("store rootfs tarball: %w", err)
	}
	return path, nil
}

// importRootfs streams the slimmed rootfs with our files into ImageImport.
func importRootfs(ctx context.Context, cli *client.Client, rootfs, tag string) error {
	f, err := os.Open(rootfs)
	if err != nil {
		return fmt.Errorf("open rootfs tarball: %w", err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(slimRootfs(f, pw)) }()
	res, err := cli.ImageImport(ctx, client.ImageImportSource{Source: pr, SourceName: "-"}, tag,
		client.ImageImportOptions{Changes: importChanges, Message: "regify-verify mariadb"})
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("docker import of the MariaDB rootfs: %w", err)
	}
	defer res.Close()
	if err := readJSONStream(res); err != nil {
		return fmt.Errorf("docker import of the MariaDB rootfs: %w", err)
	}
	return nil
}

// slimRootfs copies a rootfs tar from r to w, dropping slimPrefixes and
// replacing or adding the image's own files.
func slimRootfs(r io.Reader, w io.Writer) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	added := map[string][]byte{
		"etc/mysql/my.cnf":                              []byte(myCnf),
		"etc/mysql/mariadb.cnf":                         []byte(myCnf),
		"etc/mysql/mariadb.conf.d/10-regify-verify.cnf": []byte(serverCnf),
		"usr/local/bin/docker-entrypoint.sh":            entrypointScript,
		"etc/mysql/conf.d/.keep":                        nil,
		"docker-entrypoint-initdb.d/.keep":              nil,
	}
	appendTo := map[string]string{"etc/passwd": mysqlPasswd, "etc/group": mysqlGroup}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read rootfs tarball: %w", err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if dropped(name) {
			continue
		}
		if _, ok := added[name]; ok {
			continue
		}
		if extra, ok := appendTo[name]; ok && hdr.Typeflag == tar.TypeReg {
			body, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			body = append(body, extra...)
			hdr.Size = int64(len(body))
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(body); err != nil {
				return err
			}
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
	}
	// Directories the server needs, owned by mysql.
	for _, d := range []string{"var/lib/mysql/", "run/mysqld/", "var/log/", "dev/"} {
		uid := 999
		if d == "var/log/" || d == "dev/" {
			uid = 0
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "./" + d, Mode: 0o755, Uid: uid, Gid: uid, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(added))
	for n := range added {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		mode := int64(0o644)
		if strings.HasSuffix(n, ".sh") {
			mode = 0o755
		}
		body := added[n]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + n, Mode: mode, Size: int64(len(body)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(body); err != nil {
			return err
		}
	}
	return tw.Close()
}

func dropped(name string) bool {
	for _, p := range slimPrefixes {
		if strings.HasPrefix(name, p) && name != p {
			return true
		}
	}
	return name == "var/lib/mysql/" || name == "dev/" || name == "var/log/"
}

// readJSONStream drains a Docker progress stream and returns its first error.
func readJSONStream(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read engine stream: %w", err)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
		if m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
	}
}

// tailBuffer keeps the last 4 KiB written to it, for error messages.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if t.b.Len() > 8192 {
		keep := t.b.Bytes()[t.b.Len()-4096:]
		nb := bytes.NewBuffer(append([]byte(nil), keep...))
		t.b = *nb
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.b.String() }
