package lb

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzParseRequest: any bytes either fail with an error status or give a
// request whose framing is unambiguous and whose head is safe to forward.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: abc.test\r\n\r\n",
		"POST /m HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
		"POST /m HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"\r\n\r\nGET /x?y HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	bl := &Balancer{cfg: Config{}.withDefaults()}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := &head{}
		if err := readHead(bufio.NewReaderSize(bytes.NewReader(data), 64), h, 2048); err != nil {
			return
		}
		if len(h.raw) > 2048 {
			t.Fatalf("head of %d bytes passed a 2048 limit", len(h.raw))
		}
		hc := &h1conn{bl: bl, req: h}
		var ri reqInfo
		if code, _ := hc.parseRequest(&ri); code != 0 {
			return
		}
		if ri.chunked && ri.contentLength >= 0 {
			t.Fatal("both chunked and content-length accepted")
		}
		if len(ri.target) == 0 || (ri.target[0] != '/' && string(ri.target) != "*") {
			t.Fatalf("target %q accepted", ri.target)
		}
		for i := range h.lines {
			line := h.bytes(h.lines[i])
			if bytes.ContainsAny(line, "\r\n\x00") || bytes.IndexByte(line, ':') <= 0 {
				t.Fatalf("unsafe header line %q", line)
			}
		}
	})
}
