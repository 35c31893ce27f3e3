package links

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// echoServer answers every line it reads with the same bytes.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(addr string) (time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return 0, err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func TestCutRestoreAndToxics(t *testing.T) {
	l := New()
	t.Cleanup(l.Close)
	addr, err := l.Add("p1", "127.0.0.1:0", echoServer(t))
	require.NoError(t, err)

	_, err = roundTrip(addr)
	require.NoError(t, err, "a fresh link passes traffic")

	require.NoError(t, l.Cut("p1"))
	_, err = roundTrip(addr)
	require.Error(t, err, "a cut link refuses connections")

	require.NoError(t, l.Restore("p1"))
	_, err = roundTrip(addr)
	require.NoError(t, err, "a restored link passes traffic on the same address")

	require.NoError(t, l.AddToxic("p1", Toxic{Name: "slow", Type: "latency", Attributes: map[string]any{"latency": 150}}))
	d, err := roundTrip(addr)
	require.NoError(t, err)
	require.GreaterOrEqual(t, d, 150*time.Millisecond, "latency toxic delays the answer")

	require.NoError(t, l.RemoveToxic(context.Background(), "p1", "slow"))
	require.Error(t, l.Cut("nope"), "an unknown link is an error")
}

// TestRetarget: a server that came back on another port is reached through
// the same link address again; a cut link stays cut until restored.
func TestRetarget(t *testing.T) {
	l := New()
	t.Cleanup(l.Close)
	old, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	oldAddr := old.Addr().String()
	require.NoError(t, old.Close()) // the server went away: nothing listens there
	addr, err := l.Add("db-p1", "127.0.0.1:0", oldAddr)
	require.NoError(t, err)
	_, err = roundTrip(addr)
	require.Error(t, err, "the link leads to the old, dead port")

	moved := echoServer(t)
	require.NoError(t, l.Retarget("db-p1", moved))
	_, err = roundTrip(addr)
	require.NoError(t, err, "the same link address reaches the server on its new port")
	again, err := l.Addr("db-p1")
	require.NoError(t, err)
	require.Equal(t, addr, again, "the link keeps its address")

	require.NoError(t, l.Cut("db-p1"))
	require.NoError(t, l.Retarget("db-p1", echoServer(t)))
	_, err = roundTrip(addr)
	require.Error(t, err, "retargeting does not restore a cut link")
	require.NoError(t, l.Restore("db-p1"))
	_, err = roundTrip(addr)
	require.NoError(t, err)

	require.ErrorContains(t, l.Retarget("nope", moved), `no link named "nope"`)
}
