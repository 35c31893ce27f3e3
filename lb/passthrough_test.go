package lb

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tlsBackend is a provider that ends TLS itself (passthrough mode) and
// reports the client address it learned from a PROXY header.
func tlsBackend(t *testing.T, name string, cert tls.Certificate, proxyVersion int) string {
	addr, _ := serveTLSBackend(t, cert, proxyVersion, func(tc *tls.Conn, src string, req *http.Request) {
		body := fmt.Sprintf("backend=%s src=%s host=%s", name, src, req.Host)
		fmt.Fprintf(tc, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	})
	return addr
}

// serveTLSBackend accepts connections that start with a PROXY header of
// proxyVersion (0: none), then TLS, reads one request and lets answer reply.
// It returns the address and a function that stops the listener.
func serveTLSBackend(t *testing.T, cert tls.Certificate, proxyVersion int, answer func(tc *tls.Conn, src string, req *http.Request)) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	stop := func() { ln.Close() }
	t.Cleanup(stop)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				br := bufio.NewReader(c)
				src := "none"
				if proxyVersion != 0 {
					s, err := readProxyHeader(br, proxyVersion)
					if err != nil {
						fmt.Fprintf(c, "bad proxy header: %v", err)
						return
					}
					src = s
				}
				tc := tls.Server(&bufferedConn{Conn: c, r: br}, &tls.Config{Certificates: []tls.Certificate{cert}})
				req, err := http.ReadRequest(bufio.NewReader(tc))
				if err != nil {
					return
				}
				answer(tc, src, req)
			}()
		}
	}()
	return ln.Addr().String(), stop
}

type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// readProxyHeader parses a PROXY v1 or v2 header and returns "ip:port" of the source.
func readProxyHeader(br *bufio.Reader, version int) (string, error) {
	if version == 1 {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		f := strings.Fields(strings.TrimSpace(line))
		if len(f) == 2 && f[1] == "UNKNOWN" {
			return "local", nil
		}
		if len(f) != 6 || f[0] != "PROXY" || f[1] != "TCP4" {
			return "", fmt.Errorf("bad v1 line %q", line)
		}
		return net.JoinHostPort(f[2], f[4]), nil
	}
	hdr := make([]byte, 16)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return "", err
	}
	if bytes.Equal(hdr[:12], proxyV2Sig) && hdr[12] == 0x20 { // LOCAL: the balancer itself
		_, err := io.CopyN(io.Discard, br, int64(binary.BigEndian.Uint16(hdr[14:])))
		return "local", err
	}
	if !bytes.Equal(hdr[:12], proxyV2Sig) || hdr[12] != 0x21 || hdr[13] != 0x11 {
		return "", fmt.Errorf("bad v2 header % x", hdr)
	}
	n := binary.BigEndian.Uint16(hdr[14:])
	addrs := make([]byte, n)
	if _, err := io.ReadFull(br, addrs); err != nil {
		return "", err
	}
	src := netip.AddrFrom4([4]byte(addrs[0:4]))
	return netip.AddrPortFrom(src, binary.BigEndian.Uint16(addrs[8:])).String(), nil
}

func TestPassthrough(t *testing.T) {
	c := newCerts(t)
	for _, version := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("proxy protocol %d", version), func(t *testing.T) {
			b1 := tlsBackend(t, "p1-abc", c.abc.TLS, version)
			b2 := tlsBackend(t, "p2-abc", c.abc.TLS, version)
			cfg := Config{
				Listeners: []Listener{{Name: "abc-pass", Mode: ModePassthrough, Address: "127.0.0.1:0", Pool: "abc", ProxyProtocol: version}},
				Pools: []Pool{{Name: "abc", Backends: []Backend{
					{Name: "p1-abc", Address: b1, Provider: "p1"}, {Name: "p2-abc", Address: b2, Provider: "p2"},
				}}},
				Broken: Broken{NoHealthChecks: true}, // the TLS backends do not serve plain /health
			}
			bl := startLB(t, cfg)
			seenBy := map[string]map[string]bool{}
			for i := 1; i <= 4; i++ {
				src := fmt.Sprintf("127.0.10.%d", i)
				for j := 0; j < 3; j++ {
					d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
					conn, err := tls.DialWithDialer(d, "tcp", bl.Addrs()[0].String(), &tls.Config{ServerName: "abc.test", RootCAs: c.ca.Pool()})
					require.NoError(t, err, "TLS ends at the backend with its own certificate")
					assert.Equal(t, []string{"abc.test"}, certNames(t, conn.ConnectionState()))
					fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: abc.test\r\n\r\n")
					resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
					require.NoError(t, err)
					body := readAll(t, resp)
					conn.Close()
					var backend, from, host string
					_, err = fmt.Sscanf(body, "backend=%s src=%s host=%s", &backend, &from, &host)
					require.NoError(t, err, body)
					if version == 0 {
						assert.Equal(t, "none", from)
					} else {
						assert.True(t, strings.HasPrefix(from, src+":"), "backend learned the client %s, got %s", src, from)
					}
					if seenBy[src] == nil {
						seenBy[src] = map[string]bool{}
					}
					seenBy[src][backend] = true
				}
				assert.Len(t, seenBy[src], 1, "source-IP persistence in passthrough")
			}
		})
	}
}

func TestProxyHeaderFormats(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.10.1:50000")
	dst := netip.MustParseAddrPort("127.0.1.1:443")
	assert.Equal(t, "PROXY TCP4 127.0.10.1 127.0.1.1 50000 443\r\n", string(proxyHeader(1, src, dst)))
	v6 := proxyHeader(1, netip.MustParseAddrPort("[::1]:5"), netip.MustParseAddrPort("[::1]:6"))
	assert.Equal(t, "PROXY TCP6 ::1 ::1 5 6\r\n", string(v6))
	v2 := proxyHeader(2, src, dst)
	assert.Equal(t, proxyV2Sig, v2[:12])
	assert.Equal(t, []byte{0x21, 0x11, 0, 12, 127, 0, 10, 1, 127, 0, 1, 1, 0xc3, 0x50, 0x01, 0xbb}, v2[12:])
	v26 := proxyHeader(2, netip.MustParseAddrPort("[::1]:5"), netip.MustParseAddrPort("[::1]:6"))
	assert.Len(t, v26, 16+36)
	assert.Equal(t, byte(0x21), v26[13])
}

// TestPassthroughShutdown: a passthrough connection cannot be drained (its
// bytes are opaque), so Shutdown waits for it until its deadline, then
// closes it; nothing is left running.
func TestPassthroughShutdown(t *testing.T) {
	c := newCerts(t)
	b1 := tlsBackend(t, "p1-abc", c.abc.TLS, 2)
	base := runtime.NumGoroutine()
	bl, err := New(Config{
		Listeners: []Listener{{Name: "abc-pass", Mode: ModePassthrough, Address: "127.0.0.1:0", Pool: "abc", ProxyProtocol: 2}},
		Pools:     []Pool{{Name: "abc", Backends: []Backend{{Name: "p1-abc", Address: b1, Provider: "p1"}}}},
		Broken:    Broken{NoHealthChecks: true},
	}, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, bl.Start(context.Background()))
	conn, err := tls.Dial("tcp", bl.Addrs()[0].String(), &tls.Config{ServerName: "abc.test", RootCAs: c.ca.Pool()})
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	assert.ErrorIs(t, bl.Shutdown(ctx), context.DeadlineExceeded)
	// It waited for the open connection until the deadline (measured
	// from the context, not from start: the goroutine may have been
	// descheduled in between on a busy machine), then cut it.
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded, "waited for the open connection until the deadline")
	assert.Less(t, time.Since(start), 5*time.Second, "and no longer than needed to cut it")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	assert.Error(t, err, "closed by the hard shutdown")
	conn.Close()
	goroutinesSettle(t, base, 5*time.Second)
}
