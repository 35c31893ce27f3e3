package links

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

// TestToxicsOfTheLinkFaults: the toxics the link faults use act on a
// live link as the faults say — bandwidth and slicing slow an answer, a
// one-way black hole swallows it, a reset ends the connection — and the
// link's state names what is on it until it is taken off.
func TestToxicsOfTheLinkFaults(t *testing.T) {
	l := New()
	t.Cleanup(l.Close)
	addr, err := l.Add("w", "127.0.0.1:0", echoServer(t))
	require.NoError(t, err)
	ctx := context.Background()
	slow := []struct {
		toxic Toxic
		least time.Duration
	}{
		// 4 bytes at 1 KB/s: 4 ms; the test asks for 3.
		{Toxic{Name: "bw", Type: "bandwidth", Attributes: map[string]any{"rate": 1}}, 3 * time.Millisecond},
		// 4 bytes in 1-byte slices 20 ms apart: 60 ms at least.
		{Toxic{Name: "slice", Type: "slicer", Attributes: map[string]any{"average_size": 1, "size_variation": 0, "delay": 20000}}, 60 * time.Millisecond},
		{Toxic{Name: "lat", Type: "latency", Stream: "upstream", Attributes: map[string]any{"latency": 100, "jitter": 20}}, 80 * time.Millisecond},
	}
	for _, tc := range slow {
		require.NoError(t, l.AddToxic("w", tc.toxic))
		assert.Equal(t, []State{{Name: "w", Toxics: []string{tc.toxic.Name}}}, l.States())
		d, err := roundTrip(addr)
		require.NoError(t, err, tc.toxic.Type)
		assert.GreaterOrEqual(t, d, tc.least, tc.toxic.Type)
		require.NoError(t, l.RemoveToxic(ctx, "w", tc.toxic.Name))
	}

	require.NoError(t, l.AddToxic("w", Toxic{Name: "hole", Type: "timeout", Stream: "downstream", Attributes: map[string]any{"timeout": 0}}))
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	_, err = c.Write([]byte("ping"))
	require.NoError(t, err, "the request still goes out")
	_, err = c.Read(make([]byte, 4))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "the answer vanishes and the connection stays open: %v", err)
	c.Close()
	require.NoError(t, l.RemoveToxic(ctx, "w", "hole"))

	require.NoError(t, l.AddToxic("w", Toxic{Name: "rst", Type: "reset_peer", Stream: "upstream", Attributes: map[string]any{"timeout": 0}}))
	_, err = roundTrip(addr)
	require.Error(t, err, "a reset connection gets no answer")
	assert.NotContains(t, err.Error(), "timeout")
	require.NoError(t, l.RemoveToxic(ctx, "w", "rst"))

	err = l.RemoveToxic(ctx, "w", "rst")
	require.ErrorIs(t, err, ErrNoToxic, "a toxic taken off twice")
	require.NoError(t, l.Cut("w"))
	assert.Equal(t, []State{{Name: "w", Cut: true}}, l.States())
	assert.True(t, l.States()[0].Broken())
	require.NoError(t, l.Restore("w"))
	assert.False(t, l.States()[0].Broken())
	_, err = roundTrip(addr)
	require.NoError(t, err, "nothing left on the link")
}

// TestSlicerGivesWay: taking the slicer off mid-chunk hands on the rest of
// the chunk at once, in order, and returns promptly, also when the
// connection's peer has gone (toxiproxy 2.5's own slicer could block the
// removal for good then; see slicer.go).
func TestSlicerGivesWay(t *testing.T) {
	l := New()
	t.Cleanup(l.Close)
	addr, err := l.Add("w", "127.0.0.1:0", echoServer(t))
	require.NoError(t, err)
	ctx := context.Background()
	slow := Toxic{Name: "slice", Type: "slicer", Attributes: map[string]any{"average_size": 1, "size_variation": 0, "delay": 300000}}
	remove := func() time.Duration {
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- l.RemoveToxic(ctx, "w", "slice") }()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("RemoveToxic did not return within 5s")
		}
		return time.Since(start)
	}

	require.NoError(t, l.AddToxic("w", slow))
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, err = c.Write([]byte("abcdefgh"))
	require.NoError(t, err)
	got := make([]byte, 8)
	_, err = io.ReadFull(c, got[:1])
	require.NoError(t, err)
	assert.Less(t, remove(), 2*time.Second)
	_, err = io.ReadFull(c, got[1:])
	require.NoError(t, err, "the rest of the chunk came through")
	assert.Equal(t, "abcdefgh", string(got))

	require.NoError(t, l.AddToxic("w", slow))
	gone, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, err = gone.Write([]byte("abcdefgh"))
	require.NoError(t, err)
	_ = gone.SetDeadline(time.Now().Add(3 * time.Second))
	_, err = io.ReadFull(gone, got[:1])
	require.NoError(t, err)
	require.NoError(t, gone.Close())
	time.Sleep(50 * time.Millisecond)
	assert.Less(t, remove(), 3*time.Second, "a dead connection does not hold the removal")
	_, err = roundTrip(addr)
	require.NoError(t, err, "the link passes traffic again")
}
