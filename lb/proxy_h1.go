package lb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// The HTTP/1.1 forwarding path: one goroutine per client connection reads
// request heads with a lean parser, rewrites only the hop-by-hop and
// forwarded headers, and relays over one keep-alive backend connection per
// client connection (persistence pins a client to one backend anyway).

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
	headPool   = sync.Pool{New: func() any { return &head{raw: make([]byte, 0, 1024), lines: make([]span, 0, 16)} }}
)

func getReader(r io.Reader) *bufio.Reader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putReader(br *bufio.Reader) { br.Reset(nil); readerPool.Put(br) }

func getWriter(w io.Writer) *bufio.Writer {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

func putWriter(bw *bufio.Writer) { bw.Reset(nil); writerPool.Put(bw) }

// h1conn is the state of one client connection.
type h1conn struct {
	bl     *Balancer
	st     *listenerState
	tc     *trackedConn
	c      net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	proto  string // "https" or "http", for X-Forwarded-Proto
	client netip.Addr
	ip     string // client IP as text

	req  *head
	resp *head
	out  []byte // scratch for header values

	be  *backend
	bc  net.Conn
	bbr *bufio.Reader
	bbw *bufio.Writer
	// writeDeadline is the client's current write deadline; it is re-armed
	// only when half used up, not per request.
	writeDeadline time.Time
	// reused is set once bc has carried a response: a failure before the
	// next response's first byte may just be the backend closing an idle
	// connection, so a body-less request is retried once on a fresh one.
	reused bool
}

// request facts gathered while parsing the head.
type reqInfo struct {
	method        []byte
	target        []byte
	http10        bool
	host          []byte
	contentLength int64 // -1: none
	chunked       bool
	closeAfter    bool
	expect        bool
	cookie        string // broken cookie-insert mode
	isHead        bool
}

func (bl *Balancer) serveH1(st *listenerState, tc *trackedConn, c net.Conn, proto string) {
	bl.serveHTTP1(st, tc, c, proto, (*h1conn).serveOne)
}

// serveHTTP1 runs the keep-alive loop of one connection; one handles a request
// and says whether the connection stays open.
func (bl *Balancer) serveHTTP1(st *listenerState, tc *trackedConn, c net.Conn, proto string, one func(*h1conn) bool) {
	h := &h1conn{bl: bl, st: st, tc: tc, c: c, proto: proto}
	if ap, err := netip.ParseAddrPort(tc.RemoteAddr().String()); err == nil {
		h.client = ap.Addr().Unmap()
		h.ip = h.client.String()
	}
	h.br = getReader(c)
	h.bw = getWriter(c)
	h.req = headPool.Get().(*head)
	h.resp = headPool.Get().(*head)
	defer func() {
		h.releaseBackend()
		putReader(h.br)
		putWriter(h.bw)
		headPool.Put(h.req)
		headPool.Put(h.resp)
	}()
	first := true
	for {
		if !h.waitRequest(first) {
			return
		}
		first = false
		if !one(h) {
			return
		}
	}
}

// waitRequest waits for the first byte of the next request under the idle
// timeout, marking the connection idle so a drain may close it.
func (h *h1conn) waitRequest(first bool) bool {
	t := h.bl.cfg.Timeouts
	if h.br.Buffered() > 0 {
		h.c.SetReadDeadline(time.Now().Add(t.ReadHeader))
		return true
	}
	wait := t.Idle
	if first {
		wait = t.ReadHeader
	}
	// A new connection is not idle: its first request is on the way (as
	// net/http treats StateNew), so a drain waits for it.
	if !first {
		h.tc.idle.Store(true)
		if h.bl.draining.Load() {
			return false
		}
	}
	h.c.SetReadDeadline(time.Now().Add(wait))
	_, err := h.br.Peek(1)
	h.tc.idle.Store(false)
	if err != nil {
		return false
	}
	if !first && !headBuffered(h.br) {
		h.c.SetReadDeadline(time.Now().Add(t.ReadHeader))
	}
	return true
}

// headBuffered reports whether a whole request head is already in the
// buffer, so no header timeout needs arming for it.
func headBuffered(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	return bytes.Contains(b, []byte("\r\n\r\n"))
}

// readRequest reads and checks the next request head into ri; on a bad or
// missing head it answers the error itself and reports false (close).
func (h *h1conn) readRequest(ri *reqInfo) bool {
	if err := readHead(h.br, h.req, h.bl.cfg.MaxHeaderBytes); err != nil {
		switch {
		case errors.Is(err, errHeadTooLarge):
			h.errorResponse(431, "request header fields too large")
		case errors.Is(err, errBadHead):
			h.errorResponse(400, "malformed request head")
		case errors.Is(err, os.ErrDeadlineExceeded):
			h.errorResponse(408, "request head not received in time")
		}
		return false
	}
	if code, msg := h.parseRequest(ri); code != 0 {
		h.errorResponse(code, msg)
		return false
	}
	return true
}

// serveOne proxies one request; false means close the client connection.
func (h *h1conn) serveOne() bool {
	bl := h.bl
	var ri reqInfo
	if !h.readRequest(&ri) {
		return false
	}
	hasBody := ri.chunked || ri.contentLength > 0
	if hasBody || ri.expect {
		// Body reads are bounded by the idle timeout, not the head timeout.
		h.c.SetReadDeadline(time.Now().Add(bl.cfg.Timeouts.Idle))
	}
	if ri.expect {
		// Answer 100-continue ourselves: the backend never sees Expect, so
		// the body cannot deadlock between client and backend.
		h.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if err := h.bw.Flush(); err != nil {
			return false
		}
	}
	avoid := -1
	freshOnly := false
	for attempt := 0; ; attempt++ {
		be, setCookie := h.st.pool.pick(h.client, ri.cookie, avoid)
		if be == nil {
			h.discardBody(&ri)
			h.errorResponse(503, "no healthy backend")
			return false
		}
		if err := h.useBackend(be, !hasBody && !freshOnly); err != nil {
			if !bl.cfg.Broken.NoHealthChecks {
				be.markResult(false, err.Error(), bl.cfg.HealthCheck.Rise, bl.cfg.HealthCheck.Fall, true)
			}
			bl.log.Warn("backend connect failed", "backend", be.Name, "address", be.Address, "err", err)
			// Without health checks there is no redispatch either: the
			// dead backend keeps its clients (the negative control).
			if attempt < 2 && !bl.cfg.Broken.NoHealthChecks {
				avoid = be.idx
				continue
			}
			h.discardBody(&ri)
			h.errorResponse(502, "backend unreachable")
			return false
		}
		reused := h.reused
		status, keepClient, err := h.forward(&ri, be, setCookie)
		if err == nil {
			be.served.Add(1)
			if bl.cfg.AccessLog {
				bl.log.Info("request", "client", h.ip, "listener", h.st.cfg.Name, "method", string(ri.method),
					"host", string(ri.host), "target", string(ri.target), "status", status, "backend", be.Name, "provider", be.Provider)
			}
			return keepClient && !ri.closeAfter && !bl.draining.Load()
		}
		h.dropBackend()
		var fe *forwardError
		if errors.As(err, &fe) && fe.beforeResponse && reused && !hasBody && attempt < 2 {
			// A stale keep-alive connection: the backend closed it (or
			// restarted, so its parked ones are stale too). Retry on a new one.
			be.idle.purge(time.Now(), true)
			freshOnly = true
			continue
		}
		bl.log.Debug("forward failed", "client", h.ip, "backend", be.Name, "err", err)
		if errors.As(err, &fe) && fe.beforeResponse && !fe.clientSide {
			if fe.timeout {
				h.errorResponse(504, "backend timed out")
			} else {
				h.errorResponse(502, "backend failed")
			}
		}
		return false
	}
}

// parseRequest checks the request head and collects what the proxy needs.
// A non-zero code is the error status to answer with.
func (h *h1conn) parseRequest(ri *reqInfo) (int, string) {
	line := h.req.bytes(h.req.start)
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return 400, "malformed request line"
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return 400, "malformed request line"
	}
	ri.method, ri.target = line[:sp1], rest[:sp2]
	proto := rest[sp2+1:]
	switch string(proto) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		ri.http10, ri.closeAfter = true, true
	default:
		if bytes.HasPrefix(proto, []byte("HTTP/")) {
			return 505, "http version not supported"
		}
		return 400, "malformed request line"
	}
	for _, c := range ri.target {
		if c <= ' ' || c == 0x7f {
			return 400, "malformed request target"
		}
	}
	for _, c := range ri.method {
		if c <= ' ' || c >= 0x7f {
			return 400, "malformed method"
		}
	}
	ri.isHead = string(ri.method) == "HEAD"
	ri.contentLength = -1
	hosts := 0
	for i := range h.req.lines {
		name, v := h.req.header(i)
		switch len(name) {
		case 4:
			if eqFold(name, "host") {
				hosts++
				ri.host = v
			}
		case 6:
			if eqFold(name, "expect") {
				if !eqFold(v, "100-continue") {
					return 417, "expectation failed"
				}
				ri.expect = true
			} else if eqFold(name, "cookie") && h.bl.cfg.Broken.persistCookie() != "" {
				ri.cookie = cookieValue(v, h.bl.cfg.Broken.persistCookie())
			}
		case 10:
			if eqFold(name, "connection") {
				if hasToken(v, "close") {
					ri.closeAfter = true
				} else if ri.http10 && hasToken(v, "keep-alive") {
					ri.closeAfter = false
				}
			}
		case 14:
			if eqFold(name, "content-length") {
				n, ok := parseUint(v)
				if !ok || (ri.contentLength >= 0 && ri.contentLength != n) {
					return 400, "bad content-length"
				}
				ri.contentLength = n
			}
		case 17:
			if eqFold(name, "transfer-encoding") {
				if !eqFold(v, "chunked") || ri.chunked {
					return 501, "unsupported transfer-encoding"
				}
				ri.chunked = true
			}
		}
	}
	if ri.chunked && ri.contentLength >= 0 {
		return 400, "both content-length and transfer-encoding" // request smuggling guard
	}
	if ri.chunked && ri.http10 {
		return 400, "chunked body in HTTP/1.0"
	}
	if hosts > 1 || (hosts == 0 && !ri.http10) {
		return 400, "exactly one Host header required"
	}
	if len(ri.target) == 0 || (ri.target[0] != '/' && !(string(ri.method) == "OPTIONS" && string(ri.target) == "*")) {
		return 400, "only origin-form request targets are proxied"
	}
	return 0, ""
}

func cookieValue(v []byte, name string) string {
	for len(v) > 0 {
		var part []byte
		if i := bytes.IndexByte(v, ';'); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			part, v = v, nil
		}
		part = trimBlank(part)
		if eq := bytes.IndexByte(part, '='); eq > 0 && string(part[:eq]) == name {
			return string(part[eq+1:])
		}
	}
	return ""
}

// useBackend makes sure bc is an open connection to be: the one this client
// connection already has, a parked one (pooled allowed), or a new one.
func (h *h1conn) useBackend(be *backend, pooled bool) error {
	if h.bc != nil && h.be == be {
		return nil
	}
	h.releaseBackend()
	if pooled {
		if ic, ok := be.idle.take(time.Now()); ok {
			h.be, h.bc, h.bbr, h.bbw = be, ic.c, ic.br, ic.bw
			h.tc.setPeer(ic.c)
			h.reused = true
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(h.bl.connCtx, h.bl.cfg.Timeouts.Connect)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", be.Address)
	if err != nil {
		return fmt.Errorf("connect to backend %s: %w", be.Name, err)
	}
	h.be, h.bc = be, c
	h.tc.setPeer(c)
	h.bbr = getReader(c)
	h.bbw = getWriter(c)
	h.reused = false
	return nil
}

// releaseBackend parks the backend connection for other clients when it is
// between responses and its backend is up; otherwise it is closed. Every
// failed exchange drops the connection first, so one still held is clean.
func (h *h1conn) releaseBackend() {
	if h.bc == nil {
		return
	}
	if h.reused && h.be.up.Load() && !h.bl.draining.Load() {
		h.bc.SetDeadline(time.Time{})
		if h.be.idle.put(idleConn{c: h.bc, br: h.bbr, bw: h.bbw, since: time.Now()}) {
			h.tc.setPeer(nil)
			h.bc, h.be, h.bbr, h.bbw = nil, nil, nil, nil
			return
		}
	}
	h.dropBackend()
}

func (h *h1conn) dropBackend() {
	if h.bc == nil {
		return
	}
	h.bc.Close()
	h.tc.setPeer(nil)
	putReader(h.bbr)
	putWriter(h.bbw)
	h.bc, h.be, h.bbr, h.bbw = nil, nil, nil, nil
}

// armWriteDeadline keeps the client's write deadline between Idle/2 and
// Idle ahead, re-arming it only when needed.
func (h *h1conn) armWriteDeadline() {
	idle := h.bl.cfg.Timeouts.Idle
	now := time.Now()
	if h.writeDeadline.Sub(now) < idle/2 {
		h.writeDeadline = now.Add(idle)
		h.c.SetWriteDeadline(h.writeDeadline)
	}
}

// forwardError says where forwarding failed, so the caller knows whether an
// error response can still be sent and whether a retry is safe.
type forwardError struct {
	err            error
	beforeResponse bool // nothing of the response has reached the client
	clientSide     bool // the client, not the backend, failed
	timeout        bool
}

func (e *forwardError) Error() string { return e.err.Error() }
func (e *forwardError) Unwrap() error { return e.err }

func backendErr(err error, before bool) error {
	return &forwardError{err: err, beforeResponse: before, timeout: errors.Is(err, os.ErrDeadlineExceeded)}
}

func clientErr(err error, before bool) error {
	return &forwardError{err: err, beforeResponse: before, clientSide: true}
}

// isHopHeader reports the request headers the proxy never forwards: hop-by-hop
// ones (RFC 9110 §7.6.1), Expect (answered here), and the forwarded headers a
// client may not set itself.
func isDroppedRequestHeader(name []byte) bool {
	switch len(name) {
	case 2:
		return eqFold(name, "te")
	case 6:
		return eqFold(name, "expect")
	case 7:
		return eqFold(name, "upgrade")
	case 9:
		return eqFold(name, "forwarded")
	case 10:
		return eqFold(name, "connection") || eqFold(name, "keep-alive")
	case 15:
		return eqFold(name, "x-forwarded-for")
	case 16:
		return eqFold(name, "x-forwarded-host") || eqFold(name, "proxy-connection") || eqFold(name, "x-forwarded-port")
	case 17:
		return eqFold(name, "x-forwarded-proto")
	case 19:
		return eqFold(name, "proxy-authorization")
	}
	return false
}

// forward sends the request to the current backend and relays the response.
func (h *h1conn) forward(ri *reqInfo, be *backend, setCookie bool) (status int, keepClient bool, err error) {
	bl := h.bl
	w := h.bbw
	// Request head.
	w.Write(ri.method)
	w.WriteByte(' ')
	w.Write(ri.target)
	w.WriteString(" HTTP/1.1\r\n")
	var connTokens []byte
	for i := range h.req.lines {
		name, v := h.req.header(i)
		if len(name) == 10 && eqFold(name, "connection") {
			connTokens = v
		}
	}
	for i := range h.req.lines {
		name, _ := h.req.header(i)
		if isDroppedRequestHeader(name) || (connTokens != nil && hasToken(connTokens, string(bytes.ToLower(name)))) {
			continue
		}
		w.Write(h.req.bytes(h.req.lines[i]))
		w.WriteString("\r\n")
	}
	if ri.http10 && ri.host == nil {
		w.WriteString("Host: ")
		w.WriteString(h.st.cfg.Host)
		w.WriteString("\r\n")
	}
	h.writeForwarded(w, ri)
	w.WriteString("\r\n")
	h.bc.SetDeadline(time.Now().Add(bl.cfg.Timeouts.Backend))
	if !(ri.chunked || ri.contentLength > 0) {
		if err := w.Flush(); err != nil {
			return 0, false, backendErr(fmt.Errorf("send request head: %w", err), true)
		}
	} else {
		// An upload may take as long as it keeps moving: the client may
		// stall for Idle, the backend for Backend, never the whole body.
		p := pace{rc: h.c, rd: bl.cfg.Timeouts.Idle, wc: h.bc, wd: bl.cfg.Timeouts.Backend}
		p.start(time.Now())
		if err := h.copyBody(w, h.br, ri.chunked, ri.contentLength, true, &p); err != nil {
			return 0, false, err
		}
		if err := w.Flush(); err != nil {
			return 0, false, backendErr(fmt.Errorf("send request body: %w", err), true)
		}
		// The wait for the response head starts when the body is sent.
		h.bc.SetReadDeadline(time.Now().Add(bl.cfg.Timeouts.Backend))
	}
	// Response heads (1xx are relayed and followed by the final one).
	for {
		if err := readHead(h.bbr, h.resp, 4*bl.cfg.MaxHeaderBytes); err != nil {
			return 0, false, backendErr(fmt.Errorf("read response head: %w", err), true)
		}
		status, _ = parseStatusCode(h.resp.bytes(h.resp.start))
		if status == 0 {
			return 0, false, backendErr(fmt.Errorf("malformed status line %q", h.resp.bytes(h.resp.start)), true)
		}
		if status == 101 {
			// No upgrade was asked for (Upgrade is never forwarded).
			return 0, false, backendErr(errors.New("backend switched protocols unasked"), true)
		}
		if status >= 200 {
			break
		}
		if ri.http10 {
			continue // HTTP/1.0 clients get no 1xx
		}
		h.bw.Write(h.resp.raw)
		if err := h.bw.Flush(); err != nil {
			return 0, false, clientErr(err, false)
		}
	}
	// Response framing.
	var respLen int64 = -1
	respChunked, backendClose := false, false
	for i := range h.resp.lines {
		name, v := h.resp.header(i)
		switch {
		case len(name) == 14 && eqFold(name, "content-length"):
			n, ok := parseUint(v)
			if !ok {
				return 0, false, backendErr(errors.New("bad content-length in response"), true)
			}
			respLen = n
		case len(name) == 17 && eqFold(name, "transfer-encoding"):
			respChunked = hasToken(v, "chunked")
		case len(name) == 10 && eqFold(name, "connection"):
			backendClose = hasToken(v, "close")
		}
	}
	noBody := ri.isHead || status == 204 || status == 304
	untilEOF := !noBody && !respChunked && respLen < 0
	keepClient = !untilEOF && !ri.closeAfter && !bl.draining.Load()
	if respChunked && ri.http10 {
		keepClient = false // relayed as-is; the 1.0 client reads until close
	}
	// Response head to the client, under a write deadline so a client that
	// stops reading cannot hold the connection forever.
	h.armWriteDeadline()
	out := h.bw
	out.Write(h.resp.bytes(h.resp.start))
	out.WriteString("\r\n")
	for i := range h.resp.lines {
		name, _ := h.resp.header(i)
		switch len(name) {
		case 10:
			if eqFold(name, "connection") || eqFold(name, "keep-alive") {
				continue
			}
		case 16:
			if eqFold(name, "proxy-connection") {
				continue
			}
		}
		out.Write(h.resp.bytes(h.resp.lines[i]))
		out.WriteString("\r\n")
	}
	if bl.cfg.BackendHeader != "" {
		out.WriteString(bl.cfg.BackendHeader)
		out.WriteString(": ")
		out.WriteString(be.Name)
		out.WriteString("\r\n")
	}
	if setCookie {
		out.WriteString("Set-Cookie: " + CookieName + "=" + be.Name + "; Path=/\r\n")
	}
	if !keepClient {
		out.WriteString("Connection: close\r\n")
	} else if ri.http10 {
		out.WriteString("Connection: keep-alive\r\n")
	}
	out.WriteString("\r\n")
	// Body: a download may take as long as it keeps moving; the backend
	// and the client may each stall for Idle, never the whole body.
	if !noBody {
		p := pace{rc: h.bc, rd: bl.cfg.Timeouts.Idle, wc: h.c, wd: bl.cfg.Timeouts.Idle, wAt: h.writeDeadline}
		p.start(time.Now())
		if untilEOF {
			if err := copyToEOF(out, h.bbr, &p); err != nil {
				return status, false, err
			}
			backendClose = true
		} else if err := h.copyBody(out, h.bbr, respChunked, respLen, false, &p); err != nil {
			h.writeDeadline = p.wAt
			return status, false, err
		}
		h.writeDeadline = p.wAt
	}
	if err := out.Flush(); err != nil {
		return status, false, clientErr(fmt.Errorf("send response: %w", err), false)
	}
	if backendClose {
		h.dropBackend()
	} else {
		h.reused = true
	}
	return status, keepClient, nil
}

// writeForwarded adds the forwarded headers; whatever the client sent under
// these names was dropped above, never trusted.
func (h *h1conn) writeForwarded(w *bufio.Writer, ri *reqInfo) {
	broken := h.bl.cfg.Broken.NoForwardedProto
	w.WriteString("X-Forwarded-For: ")
	w.WriteString(h.ip)
	w.WriteString("\r\n")
	if !broken {
		w.WriteString("X-Forwarded-Proto: ")
		w.WriteString(h.proto)
		w.WriteString("\r\n")
	}
	if ri.host != nil {
		w.WriteString("X-Forwarded-Host: ")
		w.Write(ri.host)
		w.WriteString("\r\n")
	}
	w.WriteString("Forwarded: for=")
	if h.client.Is6() {
		w.WriteString(`"[` + h.ip + `]"`)
	} else {
		w.WriteString(h.ip)
	}
	if ri.host != nil {
		w.WriteString(";host=\"")
		for _, c := range ri.host { // RFC 7230 quoted-string
			if c == '"' || c == '\\' {
				w.WriteByte('\\')
			}
			w.WriteByte(c)
		}
		w.WriteByte('"')
	}
	if !broken {
		w.WriteString(";proto=")
		w.WriteString(h.proto)
	}
	w.WriteString("\r\n")
}

// copyBody relays a body of known length or a chunked body verbatim. toBackend
// says which side is the reader, to attribute errors.
func (h *h1conn) copyBody(w *bufio.Writer, r *bufio.Reader, chunked bool, n int64, toBackend bool, p *pace) error {
	rerr := func(err error) error {
		if toBackend {
			return clientErr(fmt.Errorf("read request body: %w", err), true)
		}
		return backendErr(fmt.Errorf("read response body: %w", err), false)
	}
	werr := func(err error) error {
		if toBackend {
			return backendErr(fmt.Errorf("send request body: %w", err), true)
		}
		return clientErr(fmt.Errorf("send response body: %w", err), false)
	}
	if !chunked {
		return copyN(w, r, n, rerr, werr, p)
	}
	for {
		p.tick(time.Now())
		line, err := r.ReadSlice('\n')
		if err != nil {
			return rerr(fmt.Errorf("chunk size line: %w", err))
		}
		size, ok := parseHex(trimCRLF(line))
		if !ok {
			return rerr(errors.New("bad chunk size"))
		}
		if _, err := w.Write(line); err != nil {
			return werr(err)
		}
		if size == 0 {
			for { // trailers up to the empty line
				line, err := r.ReadSlice('\n')
				if err != nil {
					return rerr(fmt.Errorf("trailer: %w", err))
				}
				if _, err := w.Write(line); err != nil {
					return werr(err)
				}
				if len(trimCRLF(line)) == 0 {
					return nil
				}
			}
		}
		if err := copyN(w, r, size, rerr, werr, p); err != nil {
			return err
		}
		crlf, err := r.ReadSlice('\n')
		if err != nil || len(trimCRLF(crlf)) != 0 {
			return rerr(errors.New("chunk not followed by CRLF"))
		}
		w.Write(crlf)
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil { // streaming: pass each burst on at once
				return werr(err)
			}
		}
	}
}

// copyN moves exactly n bytes from r to w through r's buffer (io.CopyN
// would allocate a LimitReader per body).
func copyN(w *bufio.Writer, r *bufio.Reader, n int64, rerr, werr func(error) error, p *pace) error {
	for n > 0 {
		p.tick(time.Now())
		if r.Buffered() == 0 {
			if _, err := r.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return rerr(err)
			}
		}
		k := int(min(int64(r.Buffered()), n))
		b, _ := r.Peek(k)
		if _, err := w.Write(b); err != nil {
			return werr(err)
		}
		r.Discard(k)
		n -= int64(k)
		if n > 0 && r.Buffered() == 0 {
			// The next read may block: pass on what arrived so far first.
			if err := w.Flush(); err != nil {
				return werr(err)
			}
		}
	}
	return nil
}

// copyToEOF relays a response body framed by the backend closing its
// connection.
func copyToEOF(w *bufio.Writer, r *bufio.Reader, p *pace) error {
	for {
		p.tick(time.Now())
		if r.Buffered() == 0 {
			if _, err := r.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return backendErr(fmt.Errorf("relay response body: %w", err), false)
			}
		}
		b, _ := r.Peek(r.Buffered())
		if _, err := w.Write(b); err != nil {
			return clientErr(fmt.Errorf("send response body: %w", err), false)
		}
		r.Discard(len(b))
		if err := w.Flush(); err != nil { // the next read may block
			return clientErr(fmt.Errorf("send response body: %w", err), false)
		}
	}
}

// pace keeps the deadlines of a body transfer moving with its progress: the
// reading side may stall for rd and the writing side for wd (at least 7/8
// of them), but a transfer that keeps moving is never cut, however long it
// runs. A deadline is pushed out only when an eighth of it has passed, so a
// fast body costs one clock read per buffer and rarely a timer reset.
type pace struct {
	rc, wc   net.Conn
	rd, wd   time.Duration
	rAt, wAt time.Time // the deadlines currently set
}

// start sets the read deadline and, unless wAt already holds a deadline
// that was set on wc, the write deadline.
func (p *pace) start(now time.Time) {
	p.rAt = now.Add(p.rd)
	p.rc.SetReadDeadline(p.rAt)
	if p.wAt.Sub(now) < p.wd-p.wd/8 {
		p.wAt = now.Add(p.wd)
		p.wc.SetWriteDeadline(p.wAt)
	}
}

func (p *pace) tick(now time.Time) {
	if p.rAt.Sub(now) < p.rd-p.rd/8 {
		p.rAt = now.Add(p.rd)
		p.rc.SetReadDeadline(p.rAt)
	}
	if p.wAt.Sub(now) < p.wd-p.wd/8 {
		p.wAt = now.Add(p.wd)
		p.wc.SetWriteDeadline(p.wAt)
	}
}

// discardBody reads a request body away so an error answer can be read.
func (h *h1conn) discardBody(ri *reqInfo) {
	if ri.contentLength > 0 && ri.contentLength < 1<<20 {
		io.CopyN(io.Discard, h.br, ri.contentLength)
	}
}

var statusText = map[int]string{
	400: "Bad Request", 408: "Request Timeout", 417: "Expectation Failed", 431: "Request Header Fields Too Large",
	501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}

// errorResponse answers with a short plain-text error and closes.
func (h *h1conn) errorResponse(code int, msg string) {
	h.c.SetWriteDeadline(time.Now().Add(h.bl.cfg.Timeouts.ReadHeader))
	fmt.Fprintf(h.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n",
		code, statusText[code], len(msg)+1, msg)
	h.bw.Flush()
}
