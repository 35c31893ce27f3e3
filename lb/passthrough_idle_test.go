package lb

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lineBackend is a passthrough provider speaking a line protocol over plain
// TCP (the balancer does not look at the bytes): "down N D" sends N bytes,
// one every D, then closes; "up" counts the bytes up to EOF and answers
// "got N". A connection that ends before any command is reported on the
// returned channel: the balancer closed its side.
func lineBackend(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	closed := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // a safety net, not part of any test
				br := bufio.NewReader(c)
				line, err := br.ReadString('\n')
				if err != nil {
					closed <- struct{}{}
					return
				}
				f := strings.Fields(line)
				switch {
				case len(f) == 3 && f[0] == "down":
					n, _ := strconv.Atoi(f[1])
					every, _ := time.ParseDuration(f[2])
					for i := 0; i < n; i++ {
						if i > 0 {
							time.Sleep(every) // the backend's pace is the point
						}
						if _, err := io.WriteString(c, "x"); err != nil {
							return
						}
					}
				case len(f) == 1 && f[0] == "up":
					n, err := io.Copy(io.Discard, br)
					if err != nil {
						return
					}
					fmt.Fprintf(c, "got %d", n)
				}
			}()
		}
	}()
	return ln.Addr().String(), closed
}

// TestPassthroughIdleTimeout: a passthrough connection with no byte in
// either direction for PassthroughIdle is closed both ways and leaves no
// goroutine behind; one that keeps moving in either direction is never cut,
// however long it runs. The control with an hour-long timeout shows the
// checks notice a connection left open.
func TestPassthroughIdleTimeout(t *testing.T) {
	const idle = 500 * time.Millisecond
	tests := []struct {
		name     string
		idle     time.Duration
		send     string // the client's command to the backend ("": none)
		upload   int    // bytes the client then trickles, one every 100ms, before its EOF
		want     string // what the client reads
		wantOpen bool   // still open when the client gives up waiting (idle+1s)
	}{
		{name: "idle connection is closed both ways", idle: idle, want: ""},
		{name: "control: an hour-long timeout leaves it open", idle: time.Hour, want: "", wantOpen: true},
		{name: "download trickling for 4x idle, client silent", idle: idle, send: "down 21 100ms\n", want: strings.Repeat("x", 21)},
		{name: "upload trickling for 4x idle, backend silent", idle: idle, send: "up\n", upload: 21, want: "got 21"},
		{name: "download stalling for 2x idle is cut", idle: idle, send: "down 2 1s\n", want: "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backend, backendClosed := lineBackend(t)
			cfg := Config{
				Listeners: []Listener{{Name: "abc-pass", Mode: ModePassthrough, Address: "127.0.0.1:0", Pool: "abc"}},
				Pools:     []Pool{{Name: "abc", Backends: []Backend{{Name: "p1-abc", Address: backend, Provider: "p1"}}}},
				Timeouts:  Timeouts{PassthroughIdle: tc.idle},
				Broken:    Broken{NoHealthChecks: true}, // the backend speaks no HTTP
			}
			bl := startLB(t, cfg)
			base := runtime.NumGoroutine()
			conn, err := net.Dial("tcp", bl.Addrs()[0].String())
			require.NoError(t, err)
			defer conn.Close()
			start := time.Now()
			if tc.send != "" {
				_, err = io.WriteString(conn, tc.send)
				require.NoError(t, err)
			}
			for i := 0; i < tc.upload; i++ {
				time.Sleep(100 * time.Millisecond) // the client's pace is the point
				_, err := io.WriteString(conn, "y")
				require.NoError(t, err, "upload cut after %d bytes", i)
			}
			if tc.upload > 0 {
				require.NoError(t, conn.(*net.TCPConn).CloseWrite())
			}
			giveUp := idle + time.Second
			if tc.send != "" {
				giveUp = 10 * time.Second
			}
			require.NoError(t, conn.SetReadDeadline(start.Add(giveUp)))
			got, err := io.ReadAll(conn)
			assert.Equal(t, tc.want, string(got))
			if tc.wantOpen {
				assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "the connection was left open")
				assert.Greater(t, runtime.NumGoroutine(), base, "the open connection holds goroutines")
				return
			}
			require.NoError(t, err, "closed by the balancer, not by the client's deadline")
			if tc.send == "" {
				assert.Less(t, time.Since(start), idle+time.Second, "closed after the idle timeout")
				select {
				case <-backendClosed:
				case <-time.After(5 * time.Second):
					t.Fatal("the backend side was not closed")
				}
			}
			// The client has not closed its side: whatever is released was
			// released by the balancer.
			goroutinesSettle(t, base, 5*time.Second)
		})
	}
}

func TestPassthroughIdleDefault(t *testing.T) {
	assert.Equal(t, 60*time.Second, Config{}.withDefaults().Timeouts.PassthroughIdle)
	assert.Equal(t, time.Second, Config{Timeouts: Timeouts{PassthroughIdle: time.Second}}.withDefaults().Timeouts.PassthroughIdle)
}
