package fakeprovider

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PROXY protocol (v1 text, v2 binary): a balancer passing TLS through puts
// the client's address in front of the stream, so the provider still learns
// who the client is. With Config.ProxyProtocol every connection must start
// with such a header; one without it is closed.

var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

const proxyHeaderTimeout = 5 * time.Second

// proxyListener wraps accepted connections so that their remote address is
// the client named in the PROXY header.
type proxyListener struct{ net.Listener }

func (l proxyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &proxyConn{Conn: c, br: bufio.NewReaderSize(c, 256)}, nil
}

// proxyConn reads the header lazily, on the first Read or RemoteAddr, in
// the connection's own goroutine, so a slow client cannot stall Accept.
type proxyConn struct {
	net.Conn
	br     *bufio.Reader
	once   sync.Once
	remote net.Addr
	err    error
}

func (c *proxyConn) parse() {
	c.once.Do(func() {
		_ = c.Conn.SetReadDeadline(time.Now().Add(proxyHeaderTimeout))
		c.remote, c.err = readProxyHeader(c.br)
		_ = c.Conn.SetReadDeadline(time.Time{})
		if c.remote == nil {
			c.remote = c.Conn.RemoteAddr()
		}
	})
}

func (c *proxyConn) Read(p []byte) (int, error) {
	c.parse()
	if c.err != nil {
		return 0, c.err
	}
	return c.br.Read(p)
}

func (c *proxyConn) RemoteAddr() net.Addr {
	c.parse()
	return c.remote
}

// readProxyHeader reads a v1 or v2 header. It returns a nil address for a
// v2 LOCAL command (a health check of the balancer itself).
func readProxyHeader(br *bufio.Reader) (net.Addr, error) {
	peek, err := br.Peek(len(proxyV2Sig))
	if err != nil && len(peek) < 6 {
		return nil, fmt.Errorf("read PROXY header: %w", err)
	}
	if bytes.HasPrefix(peek, []byte("PROXY ")) {
		return readProxyV1(br)
	}
	if len(peek) == len(proxyV2Sig) && bytes.Equal(peek, proxyV2Sig) {
		return readProxyV2(br)
	}
	return nil, errors.New("connection does not start with a PROXY protocol header (is the balancer set to send one?)")
}

func readProxyV1(br *bufio.Reader) (net.Addr, error) {
	var line []byte
	for len(line) < 108 {
		b, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("read PROXY v1 header: %w", err)
		}
		line = append(line, b)
		if b == '\n' {
			break
		}
	}
	s := string(line)
	if !strings.HasSuffix(s, "\r\n") {
		return nil, errors.New("PROXY v1 header longer than 107 bytes or not ended by CRLF")
	}
	f := strings.Fields(strings.TrimSuffix(s, "\r\n"))
	if len(f) >= 2 && f[1] == "UNKNOWN" {
		return nil, nil
	}
	if len(f) != 6 || (f[1] != "TCP4" && f[1] != "TCP6") {
		return nil, fmt.Errorf("malformed PROXY v1 header %q", s)
	}
	ip := net.ParseIP(f[2])
	port, err := strconv.Atoi(f[4])
	if ip == nil || err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("malformed PROXY v1 source %q %q", f[2], f[4])
	}
	return &net.TCPAddr{IP: ip, Port: port}, nil
}

func readProxyV2(br *bufio.Reader) (net.Addr, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("read PROXY v2 header: %w", err)
	}
	if hdr[12]>>4 != 2 {
		return nil, fmt.Errorf("PROXY v2 header with version %d", hdr[12]>>4)
	}
	n := int(binary.BigEndian.Uint16(hdr[14:16]))
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, fmt.Errorf("read PROXY v2 addresses: %w", err)
	}
	if hdr[12]&0x0f == 0 { // LOCAL: the balancer speaking for itself
		return nil, nil
	}
	switch hdr[13] >> 4 {
	case 1: // IPv4
		if n < 12 {
			return nil, errors.New("PROXY v2 IPv4 addresses truncated")
		}
		return &net.TCPAddr{IP: net.IP(body[0:4]), Port: int(binary.BigEndian.Uint16(body[8:10]))}, nil
	case 2: // IPv6
		if n < 36 {
			return nil, errors.New("PROXY v2 IPv6 addresses truncated")
		}
		return &net.TCPAddr{IP: net.IP(body[0:16]), Port: int(binary.BigEndian.Uint16(body[32:34]))}, nil
	}
	return nil, nil // AF_UNSPEC or unix: keep the connection's own address
}
