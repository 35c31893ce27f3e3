package images

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMariaDBTagStable(t *testing.T) {
	deb := MariaDBOptions{Source: SourceDebootstrap}
	a := MariaDBTag(deb)
	require.NotEmpty(t, a)
	mirror, trixie := deb, deb
	mirror.Mirror, trixie.Suite = "http://elsewhere/debian", "trixie"
	require.Equal(t, a, MariaDBTag(mirror), "the mirror must not change the tag")
	require.NotEqual(t, a, MariaDBTag(trixie))
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

// TestStaticSelfRefusesOthers: only the regify-verify binary itself goes
// into the image as it runs (this test binary is not it).
func TestStaticSelfRefusesOthers(t *testing.T) {
	_, err := StaticSelf()
	require.ErrorContains(t, err, "is not the regify-verify binary")
}
