package lb

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawTLS opens a TLS connection to the abc listener speaking HTTP/1.1.
func rawTLS(t *testing.T, c *testCerts, bl *Balancer) (*tls.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := tls.Dial("tcp", bl.Addrs()[0].String(), &tls.Config{ServerName: "abc.test", RootCAs: c.ca.Pool(), NextProtos: []string{"http/1.1"}})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn, bufio.NewReader(conn)
}

func TestHTTP1Semantics(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	bl := startLB(t, labConfig(c, []*testBackend{b}, []*testBackend{b}))
	tests := []struct {
		name     string
		req      string
		method   string
		wantCode int
		check    func(t *testing.T, resp *http.Response, body string)
	}{
		{"content-length body", "POST / HTTP/1.1\r\nHost: abc.test\r\nContent-Length: 5\r\n\r\nhello", "POST", 200,
			func(t *testing.T, _ *http.Response, body string) { assert.Contains(t, body, `"body":"hello"`) }},
		{"chunked request body", "POST / HTTP/1.1\r\nHost: abc.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n", "POST", 200,
			func(t *testing.T, _ *http.Response, body string) { assert.Contains(t, body, `"body":"abcde"`) }},
		{"chunked response", "GET /chunked HTTP/1.1\r\nHost: abc.test\r\n\r\n", "GET", 200,
			func(t *testing.T, resp *http.Response, body string) {
				assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
				assert.Len(t, body, 3000)
			}},
		{"HEAD has no body", "HEAD / HTTP/1.1\r\nHost: abc.test\r\n\r\n", "HEAD", 200,
			func(t *testing.T, _ *http.Response, body string) { assert.Empty(t, body) }},
		{"1xx relayed before the response", "GET /early HTTP/1.1\r\nHost: abc.test\r\n\r\n", "GET", 103,
			func(t *testing.T, resp *http.Response, _ string) {
				assert.Equal(t, "</style.css>; rel=preload", resp.Header.Get("Link"))
			}},
		{"upgrade refused: never forwarded", "GET / HTTP/1.1\r\nHost: abc.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "GET", 200,
			func(t *testing.T, _ *http.Response, body string) { assert.Contains(t, body, `"upgrade":""`) }},
		{"smuggling: CL and TE together", "POST / HTTP/1.1\r\nHost: abc.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "POST", 400, nil},
		{"two different content-lengths", "POST / HTTP/1.1\r\nHost: abc.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "POST", 400, nil},
		{"unknown transfer-encoding", "POST / HTTP/1.1\r\nHost: abc.test\r\nTransfer-Encoding: gzip\r\n\r\n", "POST", 501, nil},
		{"no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", "GET", 400, nil},
		{"obsolete line folding", "GET / HTTP/1.1\r\nHost: abc.test\r\nX-A: 1\r\n  2\r\n\r\n", "GET", 400, nil},
		{"HTTP/2 preface on h1", "GET / HTTP/3.0\r\nHost: abc.test\r\n\r\n", "GET", 505, nil},
		{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", "GET", 200,
			func(t *testing.T, resp *http.Response, body string) {
				assert.True(t, resp.Close)
				assert.Contains(t, body, `"host":"abc.test"`)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, br := rawTLS(t, c, bl)
			_, err := io.WriteString(conn, tc.req)
			require.NoError(t, err)
			resp, err := http.ReadResponse(br, &http.Request{Method: tc.method})
			require.NoError(t, err)
			body := readAll(t, resp)
			assert.Equal(t, tc.wantCode, resp.StatusCode, body)
			if tc.check != nil {
				tc.check(t, resp, body)
			}
			if tc.wantCode >= 400 {
				assert.True(t, resp.Close, "errors close the connection")
			}
		})
	}
}

func TestExpectContinue(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	bl := startLB(t, labConfig(c, []*testBackend{b}, []*testBackend{b}))
	conn, br := rawTLS(t, c, bl)
	io.WriteString(conn, "PUT / HTTP/1.1\r\nHost: abc.test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	// The body is sent only after the 100: a deadlock would time out here.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
	empty, _ := br.ReadString('\n')
	assert.Equal(t, "\r\n", empty)
	io.WriteString(conn, "data")
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body := readAll(t, resp)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, body, `"body":"data"`)
	assert.Contains(t, body, `"expect":""`)
}

func TestKeepAliveAndPipelining(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	bl := startLB(t, labConfig(c, []*testBackend{b}, []*testBackend{b}))
	conn, br := rawTLS(t, c, bl)
	io.WriteString(conn, strings.Repeat("GET /a HTTP/1.1\r\nHost: abc.test\r\n\r\n", 3)+"GET /b HTTP/1.1\r\nHost: abc.test\r\nConnection: close\r\n\r\n")
	for i := 0; i < 4; i++ {
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, i == 3, resp.Close, "response %d", i)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "closed after Connection: close")
}

func TestEdgeLimitsAndTimeouts(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
	cfg.MaxHeaderBytes = 4096
	cfg.Timeouts.ReadHeader = 200 * time.Millisecond
	cfg.Timeouts.Idle = 300 * time.Millisecond
	bl := startLB(t, cfg)

	t.Run("header too large is 431", func(t *testing.T) {
		conn, br := rawTLS(t, c, bl)
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: abc.test\r\nX-Big: "+strings.Repeat("a", 5000)+"\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, 431, resp.StatusCode)
		assert.True(t, resp.Close)
	})
	t.Run("slow head is cut at the header timeout", func(t *testing.T) {
		conn, br := rawTLS(t, c, bl)
		start := time.Now()
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: abc.test\r\n") // never finishes the head
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, 408, resp.StatusCode)
		assert.Less(t, time.Since(start), cfg.Timeouts.ReadHeader+time.Second)
	})
	t.Run("idle keep-alive connection closed after the idle timeout", func(t *testing.T) {
		conn, br := rawTLS(t, c, bl)
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: abc.test\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		readAll(t, resp)
		start := time.Now()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = br.ReadByte()
		assert.ErrorIs(t, err, io.EOF)
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, cfg.Timeouts.Idle-50*time.Millisecond)
		assert.Less(t, took, cfg.Timeouts.Idle+time.Second)
	})
	t.Run("backend timeout is 504", func(t *testing.T) {
		cfg2 := cfg
		cfg2.Timeouts.Backend = 150 * time.Millisecond
		bl2 := startLB(t, cfg2)
		conn, br := rawTLS(t, c, bl2)
		io.WriteString(conn, "GET /slow?d=2s HTTP/1.1\r\nHost: abc.test\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, 504, resp.StatusCode)
	})
}

func TestGracefulDrainAndNoGoroutineLeaks(t *testing.T) {
	c := newCerts(t)
	p1, p2 := startBackend(t, "p1-abc"), startBackend(t, "p2-abc")
	base := runtime.NumGoroutine()
	cfg := labConfig(c, []*testBackend{p1, p2}, []*testBackend{p1})
	bl, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, bl.Start(context.Background()))

	// Traffic of every kind: h1, h2, redirect, an idle keep-alive connection.
	cl1 := client(c, "127.0.10.1", bl.Addrs()[0].String(), false)
	cl2 := client(c, "127.0.10.2", bl.Addrs()[0].String(), true)
	getSeen(t, cl1, "https://abc.test/")
	getSeen(t, cl2, "https://abc.test/")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + bl.Addrs()[2].String() + "/")
	require.NoError(t, err)
	readAll(t, resp)
	idle, idleBR := rawTLS(t, c, bl) // keep-alive connection left idle after one request
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: abc.test\r\n\r\n")
	resp, err = http.ReadResponse(idleBR, nil)
	require.NoError(t, err)
	readAll(t, resp)

	// A slow request in flight when the drain starts must complete.
	var wg sync.WaitGroup
	var slowBody string
	var slowErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := client(c, "127.0.10.3", bl.Addrs()[0].String(), false).Get("https://abc.test/slow?d=300ms")
		if err != nil {
			slowErr = err
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slowBody = string(b)
	}()
	eventually(t, 5*time.Second, func() bool { return p1.slow.Load()+p2.slow.Load() >= 1 }, "slow request in flight")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, bl.Shutdown(ctx))
	t.Logf("drained in %v", time.Since(start))
	wg.Wait()
	require.NoError(t, slowErr)
	assert.Contains(t, slowBody, "slow done")
	_, err = net.DialTimeout("tcp", bl.Addrs()[0].String(), time.Second)
	assert.Error(t, err, "no longer listening")

	cl1.CloseIdleConnections()
	cl2.CloseIdleConnections()
	noFollow.CloseIdleConnections()
	idle.Close()
	goroutinesSettle(t, base, 5*time.Second)
}

func TestShutdownDeadlineClosesHard(t *testing.T) {
	c := newCerts(t)
	p1 := startBackend(t, "p1-abc")
	base := runtime.NumGoroutine()
	bl, err := New(labConfig(c, []*testBackend{p1}, []*testBackend{p1}), testLogger(t))
	require.NoError(t, err)
	require.NoError(t, bl.Start(context.Background()))
	done := make(chan error, 1)
	cl := client(c, "127.0.10.3", bl.Addrs()[0].String(), false)
	go func() {
		resp, err := cl.Get("https://abc.test/slow?d=10s")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	eventually(t, 5*time.Second, func() bool { return p1.slow.Load() >= 1 }, "slow request in flight")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = bl.Shutdown(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second, "a hard close does not wait for the backend")
	assert.Error(t, <-done, "the request was cut at the drain deadline")
	cl.CloseIdleConnections()
	goroutinesSettle(t, base, 5*time.Second)
}

func inFlight(bl *Balancer) int {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	n := 0
	for tc := range bl.conns {
		if !tc.idle.Load() {
			n++
		}
	}
	return n
}

func TestAdminEndpoint(t *testing.T) {
	c := newCerts(t)
	p1, p2 := startBackend(t, "p1-abc"), startBackend(t, "p2-abc")
	bl := startLB(t, labConfig(c, []*testBackend{p1, p2}, []*testBackend{p1}))
	backendsSeen(t, c, bl, "127.0.10.1", 1, false)
	backendsSeen(t, c, bl, "127.0.10.2", 1, false)
	admin := func() Snapshot {
		resp, err := http.Get("http://" + bl.AdminAddr().String() + "/")
		require.NoError(t, err)
		defer resp.Body.Close()
		var s Snapshot
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
		return s
	}
	// A request counts as served once the proxy has finished it, which can
	// be just after the client read its answer: wait for the count.
	var s Snapshot
	require.Eventually(t, func() bool {
		s = admin()
		return len(s.Pools) == 2 && len(s.Pools[0].Backends) == 2 &&
			s.Pools[0].Backends[0].Served+s.Pools[0].Backends[1].Served == 2
	}, 5*time.Second, 10*time.Millisecond, "both requests counted")
	require.Len(t, s.Pools, 2)
	assert.Equal(t, "abc", s.Pools[0].Name)
	assert.Equal(t, 2, s.Pools[0].AffinityEntries)
	require.Len(t, s.Pools[0].Backends, 2)
	assert.True(t, s.Pools[0].Backends[0].Up)
	assert.Equal(t, p1.addr, s.Pools[0].Backends[0].Address)
	assert.EqualValues(t, 2, s.Pools[0].Backends[0].Served+s.Pools[0].Backends[1].Served)
}

// TestBackendConnectionReuse: a client that opens a connection per request
// reuses a parked backend connection, and a parked connection the backend
// closed meanwhile (restart) costs the client nothing: the body-less request
// is retried on a new connection.
func TestBackendConnectionReuse(t *testing.T) {
	c := newCerts(t)
	p1 := startBackend(t, "p1-abc")
	cfg := labConfig(c, []*testBackend{p1}, []*testBackend{p1})
	cfg.HealthCheck.Interval = time.Minute // keep checks out of the way
	bl := startLB(t, cfg)
	get := func(src string) seen {
		cl := client(c, src, bl.Addrs()[0].String(), false)
		defer cl.CloseIdleConnections()
		s, resp := getSeen(t, cl, "https://abc.test/")
		require.Equal(t, 200, resp.StatusCode)
		return s
	}
	first := get("127.0.10.1")
	eventually(t, 5*time.Second, func() bool { return idleCount(bl, "abc", 0) == 1 }, "backend connection parked")
	second := get("127.0.10.2")
	assert.Equal(t, first.Remote, second.Remote, "the second client reused the parked backend connection")

	eventually(t, 5*time.Second, func() bool { return idleCount(bl, "abc", 0) == 1 }, "parked again")
	p1.stop()
	p1.revive()
	third := get("127.0.10.3")
	assert.NotEqual(t, first.Remote, third.Remote, "a new backend connection after the restart")
}

func idleCount(bl *Balancer, pool string, backend int) int {
	b := bl.pools[pool].backends[backend]
	b.idle.mu.Lock()
	defer b.idle.mu.Unlock()
	return len(b.idle.conns)
}

// TestLongTransfersKeepMoving: Idle bounds how long a body may stall, not how
// long it may take. Bodies that trickle for four times the idle timeout get
// through in every framing and direction; a body that stalls for twice the
// idle timeout is cut.
//
// The margins are for a busy 2-core CI machine: pace re-arms a deadline only
// once less than half of it is left, so a body is guaranteed Idle/2 between
// two pieces. With Idle 1s and a piece every 100ms, a scheduler stall of
// 400ms still gets through; the trickles run in parallel to keep the test
// short.
func TestLongTransfersKeepMoving(t *testing.T) {
	const (
		idle   = time.Second
		step   = 100 * time.Millisecond
		pieces = 41 // 40 steps: 4x idle
	)
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
	cfg.Timeouts.Idle = idle
	cfg.Timeouts.Backend = idle
	bl := startLB(t, cfg)

	for _, framing := range []string{"length", "chunked", "close"} {
		t.Run("download framed by "+framing, func(t *testing.T) {
			t.Parallel()
			conn, br := rawTLS(t, c, bl)
			fmt.Fprintf(conn, "GET /trickle?n=%d&every=%v&framing=%s HTTP/1.1\r\nHost: abc.test\r\n\r\n", pieces, step, framing)
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err, "the body was cut")
			assert.Equal(t, strings.Repeat("x", pieces), string(body))
		})
	}
	t.Run("upload trickling for 4x idle", func(t *testing.T) {
		t.Parallel()
		conn, br := rawTLS(t, c, bl)
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: abc.test\r\nContent-Length: %d\r\n\r\n", pieces)
		for i := 0; i < pieces; i++ {
			if i > 0 {
				time.Sleep(step) // the client's pace is the point here
			}
			_, err := io.WriteString(conn, "y")
			require.NoError(t, err)
		}
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		body := readAll(t, resp)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Contains(t, body, `"body":"`+strings.Repeat("y", pieces)+`"`)
	})
	t.Run("download stalling for 2x idle is cut", func(t *testing.T) {
		t.Parallel()
		conn, br := rawTLS(t, c, bl)
		fmt.Fprintf(conn, "GET /trickle?n=2&every=%v&framing=length HTTP/1.1\r\nHost: abc.test\r\n\r\n", 2*idle)
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, "x", string(body))
	})
}

// TestOpenListener: a listener handed over open is served as it is (its
// port never released), and a Start that fails closes it too.
func TestOpenListener(t *testing.T) {
	c := newCerts(t)
	b := startBackend(t, "p1-abc")
	cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
	open, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.Listeners[0].Address, cfg.Listeners[0].Open = open.Addr().String(), open
	bl := startLB(t, cfg)
	require.Equal(t, open.Addr().String(), bl.Addrs()[0].String())
	cl := client(c, "127.0.10.1", open.Addr().String(), false)
	s, _ := getSeen(t, cl, "https://abc.test/")
	assert.Equal(t, "p1-abc", s.Backend)

	// A second listener that cannot listen makes Start fail: the open one is closed.
	cfg2 := labConfig(c, []*testBackend{b}, []*testBackend{b})
	open2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg2.Listeners[0].Address, cfg2.Listeners[0].Open = open2.Addr().String(), open2
	cfg2.Listeners[1].Address = open.Addr().String() // taken by the running balancer
	bl2, err := New(cfg2, testLogger(t))
	require.NoError(t, err)
	require.ErrorContains(t, bl2.Start(context.Background()), "address already in use")
	_, err = open2.Accept()
	require.ErrorIs(t, err, net.ErrClosed, "the handed-over listener was closed")
}
