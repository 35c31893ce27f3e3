package images

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Sample os-release files.
const (
	osDebian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_CODENAME=bookworm\n"
	osTrixie = "ID=debian\nVERSION_CODENAME=trixie\n"
	osNoble  = "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\nUBUNTU_CODENAME=noble\n"
	osJammy  = "ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n"
	osMint   = "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_CODENAME=wilma\nUBUNTU_CODENAME=noble\n"
)

// Sample apt sources, as the distributions write them (placeholder hosts).
const (
	debianSources = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n" +
		"Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n"
	// ubuntu.sources of a 24.04 machine, security stanza first to show it
	// is skipped although its path also ends in /ubuntu.
	nobleSources = "## Ubuntu sources\n" +
		"Types: deb\nURIs: http://security.example/ubuntu/\nSuites: noble-security\nComponents: main restricted universe multiverse\nSigned-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n\n" +
		"Types: deb\nURIs: http://mirror.example/ubuntu/\nSuites: noble noble-updates noble-backports\nComponents: main restricted universe multiverse\nSigned-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n"
	// A PPA: its path ends in /ubuntu too, but it serves main only.
	ppaSources = "Types: deb\nURIs: https://ppa.example/someone/ppa/ubuntu/\nSuites: noble\nComponents: main\n"
	// sources.list of a 22.04 machine: one line per component group.
	jammyList = "# See http://help.ubuntu.com/community/UpgradeNotes\n" +
		"deb http://mirror.example/ubuntu/ jammy main restricted\n" +
		"deb-src http://mirror.example/ubuntu/ jammy universe\n" +
		"deb http://security.example/ubuntu jammy-security main universe\n" +
		"deb http://mirror.example/ubuntu/ jammy-updates universe\n" +
		"deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/ubuntu/ jammy universe # the archive\n"
	thirdPartyList = "deb [arch=amd64,arm64] https://packages.example/ubuntu/24.04/prod noble main\n"
)

func TestFindArchive(t *testing.T) {
	debian := func(m, suite string) Archive {
		return Archive{Mirror: m, Distro: "debian", Suite: suite, Components: []string{"main"}}
	}
	ubuntu := func(m, suite string) Archive {
		return Archive{Mirror: m, Distro: "ubuntu", Suite: suite, Components: []string{"main", "universe"}}
	}
	tests := []struct {
		name      string
		files     map[string]string // under the apt dir
		osRelease string            // "" means no os-release file
		env       map[string]string
		want      Archive
		wantErr   string
	}{
		{name: "debian deb822", files: map[string]string{"sources.list.d/debian.sources": debianSources}, osRelease: osDebian,
			want: debian("http://mirror.example/debian", "bookworm")},
		{name: "debian one line with options", files: map[string]string{"sources.list": "# c\ndeb [arch=amd64 signed-by=/k.gpg] https://m.example/debian/ bookworm main\n"}, osRelease: osDebian,
			want: debian("https://m.example/debian", "bookworm")},
		{name: "debian trixie machine still builds bookworm", files: map[string]string{"sources.list.d/debian.sources": "Types: deb\nURIs: http://mirror.example/debian\nSuites: trixie\nComponents: main\n"}, osRelease: osTrixie,
			want: debian("http://mirror.example/debian", "bookworm")},
		{name: "skips third party", files: map[string]string{"sources.list.d/x.list": "deb https://other.example/apt cloud main\n", "sources.list.d/y.sources": "Types: deb\nURIs: http://m.example/debian\n"},
			want: debian("http://m.example/debian", "bookworm")},
		{name: "disabled stanza", files: map[string]string{"sources.list.d/y.sources": "Enabled: no\nTypes: deb\nURIs: http://m.example/debian\n"}, osRelease: osDebian,
			wantErr: "no Debian or Ubuntu mirror found"},
		{name: "deb-src only", files: map[string]string{"sources.list": "deb-src http://m.example/debian bookworm main\n"}, osRelease: osDebian,
			wantErr: "no Debian or Ubuntu mirror found"},
		{name: "ubuntu 24.04 deb822, ppa and third party skipped",
			files: map[string]string{
				"sources.list":                     "# moved to sources.list.d/ubuntu.sources\n",
				"sources.list.d/a-ppa.sources":     ppaSources,
				"sources.list.d/microsoft.list":    thirdPartyList,
				"sources.list.d/ubuntu.sources":    nobleSources,
				"sources.list.d/zz-debian.sources": debianSources,
			},
			osRelease: osNoble, want: ubuntu("http://mirror.example/ubuntu", "noble")},
		{name: "ubuntu 22.04 one line: the entry with universe", files: map[string]string{"sources.list": jammyList}, osRelease: osJammy,
			want: ubuntu("http://mirror.example/ubuntu", "jammy")},
		{name: "ubuntu ports", files: map[string]string{"sources.list.d/ubuntu.sources": "Types: deb\nURIs: http://ports.example/ubuntu-ports/\nSuites: noble\nComponents: main universe\n"}, osRelease: osNoble,
			want: ubuntu("http://ports.example/ubuntu-ports", "noble")},
		{name: "ubuntu derivative builds its ubuntu base", files: map[string]string{"sources.list.d/official-package-repositories.list": "deb http://mint.example/packages wilma main upstream\ndeb http://mirror.example/ubuntu noble main restricted universe multiverse\n"}, osRelease: osMint,
			want: ubuntu("http://mirror.example/ubuntu", "noble")},
		{name: "deb822 continuation lines and several URIs",
			files:     map[string]string{"sources.list.d/ubuntu.sources": "Types: deb\nURIs: http://one.example/ubuntu\n http://two.example/ubuntu\nSuites: noble\n noble-updates\nComponents: main\n universe\n"},
			osRelease: osNoble, want: ubuntu("http://one.example/ubuntu", "noble")},
		{name: "debian machine ignores an ubuntu-looking entry", files: map[string]string{"sources.list": "deb http://x.example/ubuntu noble main universe\n", "sources.list.d/debian.sources": debianSources}, osRelease: osDebian,
			want: debian("http://mirror.example/debian", "bookworm")},
		{name: "ubuntu machine with only debian sources", files: map[string]string{"sources.list.d/debian.sources": debianSources}, osRelease: osNoble,
			wantErr: "set DEBIAN_MIRROR"},
		{name: "ubuntu sources without os-release need DEBIAN_SUITE", files: map[string]string{"sources.list.d/ubuntu.sources": nobleSources},
			wantErr: "set DEBIAN_SUITE"},
		{name: "DEBIAN_SUITE overrides", files: map[string]string{"sources.list.d/debian.sources": debianSources}, osRelease: osDebian, env: map[string]string{"DEBIAN_SUITE": "trixie"},
			want: debian("http://mirror.example/debian", "trixie")},
		{name: "DEBIAN_MIRROR debian wins over sources", files: map[string]string{"sources.list.d/ubuntu.sources": nobleSources}, osRelease: osNoble, env: map[string]string{"DEBIAN_MIRROR": "http://local.example/mirror/"},
			want: debian("http://local.example/mirror", "bookworm")},
		{name: "DEBIAN_MIRROR ubuntu on ubuntu", osRelease: osNoble, env: map[string]string{"DEBIAN_MIRROR": "http://local.example/ubuntu"},
			want: ubuntu("http://local.example/ubuntu", "noble")},
		{name: "DEBIAN_MIRROR ubuntu on debian needs DEBIAN_SUITE", osRelease: osDebian, env: map[string]string{"DEBIAN_MIRROR": "http://local.example/ubuntu"},
			wantErr: "set DEBIAN_SUITE"},
		{name: "DEBIAN_MIRROR ubuntu with DEBIAN_SUITE", osRelease: osDebian, env: map[string]string{"DEBIAN_MIRROR": "http://local.example/ubuntu", "DEBIAN_SUITE": "noble"},
			want: ubuntu("http://local.example/ubuntu", "noble")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			apt := filepath.Join(dir, "apt")
			require.NoError(t, os.MkdirAll(filepath.Join(apt, "sources.list.d"), 0o755))
			for n, c := range tt.files {
				require.NoError(t, os.WriteFile(filepath.Join(apt, n), []byte(c), 0o644))
			}
			osRel := filepath.Join(dir, "os-release")
			if tt.osRelease != "" {
				require.NoError(t, os.WriteFile(osRel, []byte(tt.osRelease), 0o644))
			}
			getenv := func(k string) string { return tt.env[k] }
			got, err := findArchive(getenv, apt, osRel)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNoMirrorIsErrNoMirror(t *testing.T) {
	dir := t.TempDir()
	_, err := findArchive(func(string) string { return "" }, dir, filepath.Join(dir, "os-release"))
	require.ErrorIs(t, err, ErrNoMirror)
}

// The suite is part of the image tag and the rootfs cache key, so an image
// built from Ubuntu is never taken for one built from Debian.
func TestTagFollowsSuite(t *testing.T) {
	deb, ubu := MariaDBOptions{Source: SourceDebootstrap, Suite: "bookworm"}, MariaDBOptions{Source: SourceDebootstrap, Suite: "noble"}
	require.NotEqual(t, MariaDBTag(deb), MariaDBTag(ubu))
	require.NotEqual(t, deb.rootfsKey(), ubu.rootfsKey())
	require.Equal(t, "bookworm", debianSuite, "Debian builds stay on bookworm")
}

func TestDebootstrapArgs(t *testing.T) {
	tests := []struct {
		name string
		arch Archive
		want []string
	}{
		{"debian", Archive{Mirror: "http://mirror.example/debian", Distro: "debian", Suite: "bookworm", Components: []string{"main"}},
			[]string{"--variant=minbase", "--include=mariadb-server-core,mariadb-client-core", "--components=main", "bookworm", "/r", "http://mirror.example/debian"}},
		{"ubuntu needs universe", Archive{Mirror: "http://mirror.example/ubuntu", Distro: "ubuntu", Suite: "noble", Components: []string{"main", "universe"}},
			[]string{"--variant=minbase", "--include=mariadb-server-core,mariadb-client-core", "--components=main,universe", "noble", "/r", "http://mirror.example/ubuntu"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, debootstrapArgs(tc.arch, "/r"))
		})
	}
}
