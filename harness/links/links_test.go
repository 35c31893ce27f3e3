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
