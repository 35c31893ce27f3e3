package cleanup

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
)

// dockerOrSkip returns a client of the local engine, or skips the test when
// no engine answers.
func dockerOrSkip(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Skipf("no Docker engine: make a client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		_ = cli.Close()
		t.Skipf("no Docker engine answers at %s: %v", cli.DaemonHost(), err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// TestSweepNetworks proves the sweep on real bridge networks: it removes
// ours of dead owners, keeps ours of live owners unless All, keeps its own
// process's always, and never touches unlabelled or foreign networks. Every
// listing is narrowed by a label unique to the subtest (SweepOptions.scope),
// so other runs' objects on this engine are never seen, let alone removed.
func TestSweepNetworks(t *testing.T) {
	cli := dockerOrSkip(t)
	o := testOwners(t)
	ours := func(owner string) map[string]string {
		return map[string]string{LabelRun: "rv5eedf00d", LabelOwner: owner}
	}
	nets := []struct {
		name                string
		labels              map[string]string
		removed, removedAll bool
	}{
		{"dead-pid", ours(o.deadPid), true, true},
		{"wrong-ticks", ours(o.wrongTicks), true, true},
		{"live-parent", ours(o.parent), false, true},
		{"other-host", ours(o.otherHost), false, true},
		{"self", ours(o.self), false, false},
		{"unlabelled", nil, false, false},
		{"foreign", map[string]string{"com.example.run": "rv5eedf00d", "com.example.owner": o.deadPid}, false, false},
		{"owner-without-run", map[string]string{LabelOwner: o.deadPid}, false, false},
	}
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("all=%v", all), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r, err := NewRun() // only for a unique scope value
			require.NoError(t, err)
			scopeKey := "io.regify-verify.test-scope"
			ids := map[string]string{}
			for _, n := range nets {
				labels := map[string]string{scopeKey: r.ID}
				for k, v := range n.labels {
					labels[k] = v
				}
				name := "regify-verify-sweeptest-" + r.ID + "-" + n.name
				res, err := cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
				require.NoError(t, err, "create network %s", name)
				ids[n.name] = res.ID
				t.Cleanup(func() {
					c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					if _, err := cli.NetworkRemove(c, res.ID, client.NetworkRemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
						t.Errorf("remove test network %s: %v", name, err)
					}
				})
			}

			rep, err := Sweep(ctx, SweepOptions{All: all, Docker: cli, TempRoot: t.TempDir(), scope: scopeKey + "=" + r.ID})
			require.NoError(t, err)

			var removed []string
			kept := 0
			for _, n := range nets {
				gone := n.removed
				if all {
					gone = n.removedAll
				}
				_, err := cli.NetworkInspect(ctx, ids[n.name], client.NetworkInspectOptions{})
				if gone {
					require.True(t, errdefs.IsNotFound(err), "network %s must be removed, inspect: %v", n.name, err)
					removed = append(removed, "regify-verify-sweeptest-"+r.ID+"-"+n.name)
				} else {
					require.NoError(t, err, "network %s must be kept", n.name)
					if _, ok := n.labels[LabelRun]; ok {
						kept++
					}
				}
			}
			require.ElementsMatch(t, removed, rep.Networks)
			require.Equal(t, kept, rep.Kept, "kept counts only our labelled objects")
			require.Empty(t, rep.Containers)
			require.Empty(t, rep.Volumes)
			require.Empty(t, rep.TempDirs)
		})
	}
}
