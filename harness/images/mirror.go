package images

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNoMirror means no usable archive could be found in the apt sources.
var ErrNoMirror = errors.New("no Debian or Ubuntu mirror found")

// Archive is the package archive the MariaDB rootfs is debootstrapped from:
// the machine's own distribution, so that its mirror, its debootstrap and
// its keyring fit together.
type Archive struct {
	Mirror string // archive root (the directory holding dists/)
	Distro string // "debian" or "ubuntu"
	Suite  string // bookworm, noble …
	// Components debootstrap needs for the MariaDB packages: main on
	// Debian; main and universe on Ubuntu, where MariaDB lives in universe.
	Components []string
}

// debianSuite is the Debian release the rootfs is built from, whatever
// Debian release the machine runs.
const debianSuite = "bookworm"

// DebianMirror returns the mirror to debootstrap from (see MachineArchive).
// The name stays for its callers; the mirror may be an Ubuntu one.
func DebianMirror() (string, error) {
	a, err := MachineArchive()
	if err != nil {
		return "", err
	}
	return a.Mirror, nil
}

// MachineArchive finds the archive to debootstrap from, at run time so that
// no host name is ever written into the repository:
//   - $DEBIAN_MIRROR if set (an Ubuntu archive when its path ends in
//     /ubuntu or /ubuntu-ports, else a Debian one);
//   - else the first main archive of the machine's distribution in its apt
//     sources (one-line .list files and deb822 .sources files).
//
// The suite is $DEBIAN_SUITE if set, else bookworm for Debian and the
// machine's codename (/etc/os-release) for Ubuntu.
func MachineArchive() (Archive, error) {
	return findArchive(os.Getenv, "/etc/apt", "/etc/os-release")
}

func findArchive(getenv func(string) string, aptDir, osRelease string) (Archive, error) {
	rel := readOSRelease(osRelease)
	suite := strings.TrimSpace(getenv("DEBIAN_SUITE"))
	if m := strings.TrimRight(strings.TrimSpace(getenv("DEBIAN_MIRROR")), "/"); m != "" {
		a := Archive{Mirror: m, Distro: "debian"}
		if d := archiveDistro(m); d == "ubuntu" {
			a.Distro = d
		}
		return withSuite(a, suite, rel)
	}
	a, err := archiveFromSources(aptDir, rel)
	if err != nil {
		return Archive{}, err
	}
	return withSuite(a, suite, rel)
}

// withSuite completes a with its suite and components.
func withSuite(a Archive, suite string, rel osRelease) (Archive, error) {
	a.Components = []string{"main"}
	if a.Distro == "ubuntu" {
		a.Components = []string{"main", "universe"}
	}
	switch {
	case suite != "":
		a.Suite = suite
	case a.Distro == "debian":
		a.Suite = debianSuite
	case rel.ubuntu() && rel.codename() != "":
		a.Suite = rel.codename()
	default:
		return Archive{}, fmt.Errorf("mirror %s is an Ubuntu archive but this machine names no Ubuntu codename in its os-release; set DEBIAN_SUITE to the Ubuntu release to build (e.g. noble)", a.Mirror)
	}
	return a, nil
}

// archiveFromSources picks the first main archive of the machine's
// distribution (either, when os-release does not say) from the apt sources.
func archiveFromSources(aptDir string, rel osRelease) (Archive, error) {
	var files []string
	if _, err := os.Stat(filepath.Join(aptDir, "sources.list")); err == nil {
		files = append(files, filepath.Join(aptDir, "sources.list"))
	}
	for _, pat := range []string{"*.list", "*.sources"} {
		m, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", pat))
		files = append(files, m...)
	}
	want := ""
	switch {
	case rel.ubuntu():
		want = "ubuntu"
	case rel.debian():
		want = "debian"
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var entries []aptEntry
		if strings.HasSuffix(f, ".sources") {
			entries = deb822Entries(string(data))
		} else {
			entries = oneLineEntries(string(data))
		}
		for _, e := range entries {
			d := mainArchive(e, rel.codename())
			if d == "" || (want != "" && d != want) {
				continue
			}
			return Archive{Mirror: strings.TrimRight(e.uri, "/"), Distro: d}, nil
		}
	}
	return Archive{}, fmt.Errorf("%w in %s/sources.list(.d); set DEBIAN_MIRROR to a Debian or Ubuntu archive URL (the directory holding dists/) or pass --debian-mirror", ErrNoMirror, aptDir)
}

// aptEntry is one "deb" source: its URI, suites and components.
type aptEntry struct {
	uri                string
	suites, components []string
}

// archiveDistro tells the distribution of an archive URL by its last path
// element, or "" when it is neither Debian's nor Ubuntu's main archive
// (security, ports of Debian, third-party repositories).
func archiveDistro(u string) string {
	u = strings.TrimRight(u, "/")
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "file:/") {
		return ""
	}
	switch u[strings.LastIndexByte(u, '/')+1:] {
	case "debian":
		return "debian"
	case "ubuntu", "ubuntu-ports":
		return "ubuntu"
	}
	return ""
}

// mainArchive returns the distribution of e when it is that distribution's
// main archive, else "". An Ubuntu entry must carry the release itself (not
// only -security or -updates; its security archive has the same path) and
// universe, which also keeps out Launchpad PPAs (their paths end in /ubuntu
// too, but they serve main only).
func mainArchive(e aptEntry, codename string) string {
	d := archiveDistro(e.uri)
	if d != "ubuntu" {
		return d
	}
	if !slices.Contains(e.components, "universe") {
		return ""
	}
	if codename != "" {
		if !slices.Contains(e.suites, codename) {
			return ""
		}
		return d
	}
	for _, s := range e.suites {
		if !strings.Contains(s, "-") {
			return d
		}
	}
	return ""
}

func oneLineEntries(s string) []aptEntry {
	var out []aptEntry
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		i := 1
		if strings.HasPrefix(f[1], "[") { // options like [arch=amd64 signed-by=…]
			for i < len(f) && !strings.HasSuffix(f[i], "]") {
				i++
			}
			i++
		}
		if i+1 < len(f) {
			out = append(out, aptEntry{uri: f[i], suites: []string{f[i+1]}, components: f[i+2:]})
		}
	}
	return out
}

// deb822Entries reads the stanzas of a .sources file (separated by blank
// lines; a field continues on lines that start with white space).
func deb822Entries(s string) []aptEntry {
	var out []aptEntry
	fields := map[string]string{}
	last := ""
	flush := func() {
		if len(fields) > 0 && !strings.EqualFold(strings.TrimSpace(fields["enabled"]), "no") &&
			slices.Contains(strings.Fields(fields["types"]), "deb") {
			for _, u := range strings.Fields(fields["uris"]) {
				out = append(out, aptEntry{uri: u, suites: strings.Fields(fields["suites"]), components: strings.Fields(fields["components"])})
			}
		}
		fields, last = map[string]string{}, ""
	}
	for _, line := range strings.Split(s, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(strings.TrimSpace(line), "#"):
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				fields[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return out
}

// osRelease holds the fields of /etc/os-release that choose the archive.
type osRelease map[string]string

func readOSRelease(path string) osRelease {
	r := osRelease{}
	b, err := os.ReadFile(path)
	if err != nil {
		return r
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		r[k] = strings.Trim(v, `"'`)
	}
	return r
}

func (r osRelease) is(distro string) bool {
	return r["ID"] == distro || slices.Contains(strings.Fields(r["ID_LIKE"]), distro)
}

// ubuntu is true on Ubuntu and its derivatives (ID_LIKE=ubuntu).
func (r osRelease) ubuntu() bool { return r.is("ubuntu") }

// debian is true on Debian and derivatives that are not Ubuntu's.
func (r osRelease) debian() bool { return !r.ubuntu() && r.is("debian") }

// codename is the Ubuntu release a derivative builds on (UBUNTU_CODENAME,
// e.g. on Linux Mint), else VERSION_CODENAME.
func (r osRelease) codename() string {
	if c := r["UBUNTU_CODENAME"]; c != "" {
		return c
	}
	return r["VERSION_CODENAME"]
}
