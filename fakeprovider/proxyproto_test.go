package fakeprovider

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func proxyV2(t *testing.T, src net.IP, port uint16, local bool) []byte {
	t.Helper()
	var b bytes.Buffer
	b.Write(proxyV2Sig)
	cmd := byte(0x21)
	if local {
		cmd = 0x20
	}
	b.WriteByte(cmd)
	b.WriteByte(0x11) // TCP over IPv4
	_ = binary.Write(&b, binary.BigEndian, uint16(12))
	b.Write(src.To4())
	b.Write(net.IPv4(127, 0, 2, 1).To4())
	_ = binary.Write(&b, binary.BigEndian, port)
	_ = binary.Write(&b, binary.BigEndian, uint16(443))
	return b.Bytes()
}

func TestReadProxyHeader(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		want    string // remote address; "" for none
		wantErr string
	}{
		{"v1 ipv4", []byte("PROXY TCP4 127.0.10.7 127.0.2.1 40000 443\r\nGET /"), "127.0.10.7:40000", ""},
		{"v1 ipv6", []byte("PROXY TCP6 ::1 ::1 5 6\r\n"), "[::1]:5", ""},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), "", ""},
		{"v2 ipv4", append(proxyV2(t, net.IPv4(127, 0, 10, 9), 41000, false), "GET"...), "127.0.10.9:41000", ""},
		{"v2 local", proxyV2(t, net.IPv4(1, 2, 3, 4), 1, true), "", ""},
		{"no header", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "", "does not start with a PROXY"},
		{"v1 garbage", []byte("PROXY TCP4 nope 127.0.2.1 x 443\r\n"), "", "malformed PROXY v1"},
		{"v1 too long", []byte("PROXY " + strings.Repeat("1", 200)), "", "longer than 107"},
		{"v2 truncated", proxyV2(t, net.IPv4(127, 0, 0, 1), 1, false)[:20], "", "PROXY v2 addresses"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, err := readProxyHeader(bufio.NewReader(bytes.NewReader(tc.in)))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			if tc.want == "" {
				require.Nil(t, addr)
				return
			}
			require.Equal(t, tc.want, addr.String())
		})
	}
}

func TestProxyConnKeepsPayload(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	c := &proxyConn{Conn: b, br: bufio.NewReaderSize(b, 256)}
	go func() { _, _ = a.Write([]byte("PROXY TCP4 127.0.10.3 127.0.2.1 1234 443\r\nhello")) }()
	buf := make([]byte, 5)
	n, err := c.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "hello", string(buf[:n]), "bytes after the header reach the server unchanged")
	require.Equal(t, "127.0.10.3:1234", c.RemoteAddr().String())
}
