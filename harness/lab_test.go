package harness

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLabInMemory brings up the whole topology on the memory store and
// drives the handles faults use: a crashed provider is taken out by the
// balancer and comes back; a cut link takes a provider out too; Close
// leaves no listener behind.
func TestLabInMemory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	plan, err := DefaultPlan(4, false)
	require.NoError(t, err)
	lab, err := Up(ctx, Options{Plan: plan})
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = lab.Close(context.Background())
		}
	})

	eps := lab.Endpoints()
	require.Len(t, eps, 2)
	for _, ep := range eps {
		// Each public IP serves its own name's certificate, signed by the lab's CA.
		conn, err := tls.Dial("tcp", ep.HTTPSAt, &tls.Config{ServerName: ep.Name, RootCAs: lab.Roots()})
		require.NoError(t, err, ep.Name)
		assert.Equal(t, []string{ep.Name}, conn.ConnectionState().PeerCertificates[0].DNSNames)
		conn.Close()
	}
	require.Len(t, lab.ClearingAddrs(), 2, "one clearing service, two connections")

	bound := 5 * time.Second
	require.NoError(t, lab.CrashProvider(ctx, "p1"))
	require.NoError(t, lab.WaitProvider(ctx, "p1", false, bound), "a crashed provider is taken out")
	require.NoError(t, lab.RestartProvider(ctx, "p1"))
	require.NoError(t, lab.WaitProvider(ctx, "p1", true, bound), "a restarted provider comes back")

	for _, l := range lab.BalancerLinks("p2") {
		require.NoError(t, lab.CutLink(l))
	}
	require.NoError(t, lab.WaitProvider(ctx, "p2", false, bound), "a cut link takes its provider out")
	for _, l := range lab.BalancerLinks("p2") {
		require.NoError(t, lab.RestoreLink(l))
	}
	require.NoError(t, lab.WaitProvider(ctx, "p2", true, bound))
	require.Error(t, lab.CrashProvider(ctx, "p9"), "an unknown provider is an error")

	// A balancer restart: refused while stopped, answering again on the
	// same addresses after, with every backend checked back in.
	require.NoError(t, lab.StopBalancer(ctx))
	for _, ep := range eps {
		_, err := tls.Dial("tcp", ep.HTTPSAt, &tls.Config{ServerName: ep.Name, RootCAs: lab.Roots()})
		assert.Error(t, err, "the stopped balancer refuses %s", ep.HTTPSAt)
	}
	require.NoError(t, lab.StartBalancer(ctx))
	for _, ep := range eps {
		conn, err := tls.Dial("tcp", ep.HTTPSAt, &tls.Config{ServerName: ep.Name, RootCAs: lab.Roots()})
		require.NoError(t, err, "the restarted balancer answers %s", ep.HTTPSAt)
		conn.Close()
	}
	require.NoError(t, lab.WaitProvider(ctx, "p1", true, bound))
	require.NoError(t, lab.WaitProvider(ctx, "p2", true, bound))

	require.NoError(t, lab.Close(ctx))
	closed = true
	for _, ep := range eps {
		c, err := net.DialTimeout("tcp", ep.HTTPSAt, time.Second)
		if err == nil {
			c.Close()
		}
		assert.Error(t, err, "nothing listens on %s after Close", ep.HTTPSAt)
	}
}

// TestLabFollowsRestartedDatabase: a database server that is killed and
// started again (a container comes back on a new host port) is reached by
// its provider again, which the balancer then takes back in.
func TestLabFollowsRestartedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a MariaDB pair; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	plan, err := DefaultPlan(4, false)
	require.NoError(t, err)
	lab, err := Up(ctx, Options{Plan: plan, Database: DatabasePair})
	require.NoError(t, err)
	t.Cleanup(func() { _ = lab.Close(context.Background()) })

	before, err := lab.Pair().HostAddr(ctx, "a")
	require.NoError(t, err)
	bound := 20 * time.Second
	require.NoError(t, lab.Pair().Kill(ctx, "a"))
	require.NoError(t, lab.WaitProvider(ctx, "p1", false, bound), "provider 1 is taken out while its database is gone")
	require.NoError(t, lab.Pair().Start(ctx, "a"))
	after, err := lab.Pair().HostAddr(ctx, "a")
	require.NoError(t, err)
	t.Logf("master a on the host: %s before, %s after the restart", before, after)
	require.NoError(t, lab.WaitProvider(ctx, "p1", true, bound), "provider 1 reaches its restarted database and comes back")
}
