package lb

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
)

// BenchmarkRedirectLoopback is one keep-alive redirect over loopback, client
// in the same process (its cost included). allocs/op shows the path's garbage.
func BenchmarkRedirectLoopback(b *testing.B) {
	t := &testing.T{}
	c := newCerts(t)
	cfg := labConfig(c, []*testBackend{{name: "p1", addr: "127.0.0.1:1"}}, []*testBackend{{name: "p1", addr: "127.0.0.1:1"}})
	cfg.Broken.NoHealthChecks = true
	bl, err := New(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := bl.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer bl.Shutdown(b.Context())
	conn, err := net.Dial("tcp", bl.Addrs()[2].String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET /inbox?x=1 HTTP/1.1\r\nHost: abc.test\r\nUser-Agent: bench\r\n\r\n")
	br := bufio.NewReader(conn)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		skipHead(b, br)
	}
}

// rawBackend answers every request head with a fixed 200-byte response, so
// the proxy benchmark measures the balancer, not net/http.
func rawBackend(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	body := bytes.Repeat([]byte("x"), 200)
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 200\r\n\r\n"), body...)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkProxyKeepAliveTLS is one keep-alive HTTPS request through the
// balancer to a raw backend, client in the same process.
func BenchmarkProxyKeepAliveTLS(b *testing.B) {
	t := &testing.T{}
	c := newCerts(t)
	be := &testBackend{name: "p1", addr: rawBackend(b)}
	cfg := labConfig(c, []*testBackend{be}, []*testBackend{be})
	cfg.Broken.NoHealthChecks = true
	bl, err := New(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := bl.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer bl.Shutdown(b.Context())
	conn, err := tls.Dial("tcp", bl.Addrs()[0].String(), &tls.Config{ServerName: "abc.test", RootCAs: c.ca.Pool(), NextProtos: []string{"http/1.1"}})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET /inbox HTTP/1.1\r\nHost: abc.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	br := bufio.NewReader(conn)
	buf := make([]byte, 200)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		skipHead(b, br)
		if _, err := io.ReadFull(br, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// skipHead reads a response head up to its empty line.
func skipHead(b *testing.B, br *bufio.Reader) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		if bytes.Equal(line, []byte("\r\n")) {
			return
		}
	}
}
