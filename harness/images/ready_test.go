package images

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadyImage: the initialised image is made once from the MariaDB
// image built here, and a server from it starts without initialising,
// with the database the variables asked for; the short-lived container
// that initialised is gone; an image not built here is used as it is.
func TestReadyImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images and starts a container")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cli, err := NewDockerClient(ctx)
	if err != nil {
		t.Skipf("no Docker: %v", err)
	}
	defer cli.Close()
	base, err := EnsureMariaDB(ctx, MariaDBOptions{Docker: cli})
	require.NoError(t, err)

	// A database name of this test alone: the image is made here, not
	// found from an earlier run.
	db := fmt.Sprintf("readytest_%d", time.Now().UnixNano())
	env := map[string]string{"MARIADB_ROOT_PASSWORD": "pw", "MARIADB_DATABASE": db}
	labels := map[string]string{"io.regify-verify.test": db}
	schema := "CREATE TABLE marker (id INT PRIMARY KEY);\nINSERT INTO marker VALUES (4242);\n"
	tag, err := ReadyImage(ctx, cli, base, env, schema, labels, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{Force: true}) })
	require.True(t, strings.HasPrefix(tag, readyRepo+":"), tag)
	first, err := cli.ImageInspect(ctx, tag)
	require.NoError(t, err)
	assert.Equal(t, "mariadb-ready", first.Config.Labels[OwnLabel])

	left, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", "io.regify-verify.test="+db)})
	require.NoError(t, err)
	assert.Empty(t, left.Items, "the container that initialised is removed")

	again, err := ReadyImage(ctx, cli, base, env, schema, labels, nil)
	require.NoError(t, err)
	assert.Equal(t, tag, again, "found again, not made again")
	second, err := cli.ImageInspect(ctx, again)
	require.NoError(t, err)
	assert.Equal(t, first.ID, second.ID)

	// A server from it skips the initialisation and has the schema.
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: tag, Env: []string{"MARIADB_ROOT_PASSWORD=pw"}, Labels: labels},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = cli.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	})
	_, err = cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{})
	require.NoError(t, err)
	var out string
	require.Eventually(t, func() bool {
		out = logsOf(ctx, cli, created.ID)
		return strings.Contains(out, "port: 3306")
	}, time.Minute, 100*time.Millisecond, "the server from the initialised image never became ready")
	assert.NotContains(t, out, "initialising", "the datadir came initialised")
	assert.NotContains(t, out, "initialised only", "the marker did not go into the image")
	res, err := cli.ExecCreate(ctx, created.ID, client.ExecCreateOptions{
		Cmd: []string{"mariadb", "-uroot", "-ppw", "-N", "-e", "SELECT id FROM " + db + ".marker"}, AttachStdout: true, AttachStderr: true,
	})
	require.NoError(t, err)
	att, err := cli.ExecAttach(ctx, res.ID, client.ExecAttachOptions{})
	require.NoError(t, err)
	b, _ := io.ReadAll(att.Reader)
	att.Close()
	assert.Contains(t, string(b), "4242", "the schema and its row are in the image: %s", b)

	// An image not built here is not touched.
	bin, err := EnsureBinary(ctx, BinaryOptions{Docker: cli})
	require.NoError(t, err)
	same, err := ReadyImage(ctx, cli, bin, env, "", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, bin, same)
}

func logsOf(ctx context.Context, cli *client.Client, id string) string {
	rc, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}
