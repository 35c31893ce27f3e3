package images

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMirrorFromSources(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"deb822", map[string]string{"sources.list.d/debian.sources": "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n"}, "http://mirror.example/debian"},
		{"one line with options", map[string]string{"sources.list": "# c\ndeb [arch=amd64 signed-by=/k.gpg] https://m.example/debian/ bookworm main\n"}, "https://m.example/debian"},
		{"skips third party", map[string]string{"sources.list.d/x.list": "deb https://other.example/apt cloud main\n", "sources.list.d/y.sources": "Types: deb\nURIs: http://m.example/debian\n"}, "http://m.example/debian"},
		{"disabled stanza", map[string]string{"sources.list.d/y.sources": "Enabled: no\nTypes: deb\nURIs: http://m.example/debian\n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "sources.list.d"), 0o755))
			for n, c := range tt.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644))
			}
			got, err := mirrorFromSources(dir)
			if tt.want == "" {
				require.ErrorIs(t, err, ErrNoMirror)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMariaDBTagStable(t *testing.T) {
	a := MariaDBTag(MariaDBOptions{})
	require.Equal(t, a, MariaDBTag(MariaDBOptions{Mirror: "http://elsewhere/debian"}), "the mirror must not change the tag")
	require.NotEqual(t, a, MariaDBTag(MariaDBOptions{Suite: "trixie"}))
	require.Equal(t, "mariadb:11.4", MariaDBTag(MariaDBOptions{Image: "mariadb:11.4"}))
}

// TestEnsureImages builds (or finds) both images against the real engine.
func TestEnsureImages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cli, err := NewDockerClient(ctx)
	if err != nil {
		t.Skipf("no Docker: %v", err)
	}
	defer cli.Close()
	tag, err := EnsureMariaDB(ctx, MariaDBOptions{Docker: cli})
	require.NoError(t, err)
	require.Equal(t, MariaDBTag(MariaDBOptions{}), tag)
	btag, err := EnsureBinary(ctx, BinaryOptions{Docker: cli})
	require.NoError(t, err)
	require.Contains(t, btag, BinaryRepo+":")
}

func TestMariaDBFlavour(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		wantErr string
	}{
		{"built here: no version variables", []string{"PATH=/usr/bin"}, ""},
		{"official mariadb", []string{"MARIADB_VERSION=1:11.4.5+maria~ubu2404", "MARIADB_MAJOR=11.4"}, ""},
		{"official mysql", []string{"MYSQL_MAJOR=8.4", "MYSQL_VERSION=8.4.3-1.el9"}, "is MySQL 8.4: the master-master pair needs MariaDB"},
		{"mysql version only", []string{"MYSQL_VERSION=8.0.40"}, "is MySQL 8.0.40"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := mariaDBFlavour("img:tag", tc.env)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			require.ErrorContains(t, err, "--mariadb-image mariadb:11.4", "names the fix")
		})
	}
}
