package lb

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// A lean HTTP/1.1 head parser: the proxy reads the head into one reused
// buffer and keeps offsets, so a request costs no per-header allocations.

var (
	errHeadTooLarge = errors.New("head too large")
	errBadHead      = errors.New("malformed head")
)

type span struct{ start, end int }

// head is a request or response head: the start line and the header lines,
// as spans into raw.
type head struct {
	raw   []byte
	start span
	lines []span // header lines without CRLF
}

func (h *head) reset() {
	h.raw = h.raw[:0]
	h.lines = h.lines[:0]
}

func (h *head) bytes(s span) []byte { return h.raw[s.start:s.end] }

// headerName and value of header line i (value trimmed of blanks).
func (h *head) header(i int) (name, value []byte) {
	line := h.bytes(h.lines[i])
	c := bytes.IndexByte(line, ':')
	return line[:c], trimBlank(line[c+1:])
}

// readHead reads one head (start line, headers, empty line) from r into h.
// Leading empty lines are skipped as RFC 9112 asks of servers.
func readHead(r *bufio.Reader, h *head, max int) error {
	h.reset()
	first := true
	for {
		lineStart := len(h.raw)
		for {
			frag, err := r.ReadSlice('\n')
			if len(h.raw)+len(frag) > max {
				return errHeadTooLarge
			}
			h.raw = append(h.raw, frag...)
			if err == nil {
				break
			}
			if err != bufio.ErrBufferFull {
				if len(h.raw) == 0 {
					return err
				}
				if errors.Is(err, io.EOF) {
					return io.ErrUnexpectedEOF
				}
				return err
			}
		}
		end := len(h.raw) - 1 // drop \n
		if end > lineStart && h.raw[end-1] == '\r' {
			end--
		}
		if first {
			if end == lineStart { // empty line before the start line
				h.raw = h.raw[:lineStart]
				continue
			}
			h.start = span{lineStart, end}
			first = false
			continue
		}
		if end == lineStart {
			return nil
		}
		line := h.raw[lineStart:end]
		c := bytes.IndexByte(line, ':')
		if c <= 0 || line[0] == ' ' || line[0] == '\t' || bytes.IndexByte(line[:c], ' ') >= 0 || bytes.IndexByte(line[:c], '\t') >= 0 {
			return errBadHead // no colon, obsolete folding, or blanks in the name
		}
		for _, ch := range line {
			if ch == 0 || ch == '\r' || ch == '\n' {
				return errBadHead
			}
		}
		h.lines = append(h.lines, span{lineStart, end})
	}
}

func trimBlank(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func trimCRLF(b []byte) []byte {
	return bytes.TrimRight(b, "\r\n")
}

// eqFold compares an ASCII header name with a lower-case constant.
func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether a comma-separated header value lists tok.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var part []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			part, v = v, nil
		}
		if eqFold(trimBlank(part), tok) {
			return true
		}
	}
	return false
}

// parseUint parses a decimal Content-Length; false on anything else.
func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseHex parses a chunk size (extensions after ';' ignored).
func parseHex(b []byte) (int64, bool) {
	if i := bytes.IndexByte(b, ';'); i >= 0 {
		b = b[:i]
	}
	b = trimBlank(b)
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | int64(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// parseStatusCode reads the code of "HTTP/1.x NNN reason".
func parseStatusCode(line []byte) (int, bool) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false
	}
	c := line[9:12]
	if c[0] < '1' || c[0] > '5' || c[1] < '0' || c[1] > '9' || c[2] < '0' || c[2] > '9' {
		return 0, false
	}
	if len(line) > 12 && line[12] != ' ' && line[12] != '\r' && line[12] != '\n' {
		return 0, false
	}
	return int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0'), true
}
