package images

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoMirror means no Debian mirror could be found in the apt sources.
var ErrNoMirror = errors.New("no Debian mirror found")

// DebianMirror returns the Debian mirror to debootstrap from: $DEBIAN_MIRROR
// if set, else the first plain "debian" archive named in the machine's apt
// sources (one-line .list files and deb822 .sources files). The mirror is
// read at run time so that no host name is ever written into the repository.
func DebianMirror() (string, error) {
	if m := strings.TrimSpace(os.Getenv("DEBIAN_MIRROR")); m != "" {
		return m, nil
	}
	return mirrorFromSources("/etc/apt")
}

func mirrorFromSources(aptDir string) (string, error) {
	var files []string
	if _, err := os.Stat(filepath.Join(aptDir, "sources.list")); err == nil {
		files = append(files, filepath.Join(aptDir, "sources.list"))
	}
	for _, pat := range []string{"*.list", "*.sources"} {
		m, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", pat))
		files = append(files, m...)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var uris []string
		if strings.HasSuffix(f, ".sources") {
			uris = deb822URIs(string(data))
		} else {
			uris = oneLineURIs(string(data))
		}
		for _, u := range uris {
			if isDebianArchive(u) {
				return strings.TrimRight(u, "/"), nil
			}
		}
	}
	return "", fmt.Errorf("%w in %s/sources.list(.d); set DEBIAN_MIRROR to a Debian archive URL (the directory holding dists/bookworm) or pass --debian-mirror", ErrNoMirror, aptDir)
}

// isDebianArchive accepts the main archive and rejects security, ports and
// third-party repositories.
func isDebianArchive(u string) bool {
	u = strings.TrimRight(u, "/")
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "file:/") {
		return false
	}
	return strings.HasSuffix(u, "/debian")
}

func oneLineURIs(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
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
		if i < len(f) {
			out = append(out, f[i])
		}
	}
	return out
}

func deb822URIs(s string) []string {
	var out []string
	for _, stanza := range strings.Split(s, "\n\n") {
		var types, uris []string
		enabled := true
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "types":
				types = strings.Fields(v)
			case "uris":
				uris = strings.Fields(v)
			case "enabled":
				enabled = strings.TrimSpace(strings.ToLower(v)) != "no"
			}
		}
		if !enabled {
			continue
		}
		for _, t := range types {
			if t == "deb" {
				out = append(out, uris...)
				break
			}
		}
	}
	return out
}
