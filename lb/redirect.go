package lb

import (
	"bytes"
)

// The redirect listener: every plain-HTTP request gets a redirect to the same
// host, path and query on https, never content. It answers from the request
// head alone, so it is a small raw HTTP/1.1 responder.

func (bl *Balancer) serveRedirect(st *listenerState, tc *trackedConn) {
	bl.serveHTTP1(st, tc, tc.Conn, "http", (*h1conn).redirectOne)
}

func (h *h1conn) redirectOne() bool {
	bl := h.bl
	var ri reqInfo
	if !h.readRequest(&ri) {
		return false
	}
	host := ri.host
	if len(host) == 0 {
		host = []byte(h.st.cfg.Host)
	}
	host = stripPort(host)
	if !validHost(host) {
		h.errorResponse(400, "bad Host header")
		return false
	}
	if bl.cfg.Broken.RedirectHost != "" {
		host = []byte(bl.cfg.Broken.RedirectHost)
	}
	target := ri.target
	if bl.cfg.Broken.RedirectDropQuery {
		if i := bytes.IndexByte(target, '?'); i >= 0 {
			target = target[:i]
		}
	}
	l := h.st.cfg
	h.armWriteDeadline()
	w := h.bw
	if l.RedirectCode == 301 {
		w.WriteString("HTTP/1.1 301 Moved Permanently\r\nLocation: https://")
	} else {
		w.WriteString("HTTP/1.1 308 Permanent Redirect\r\nLocation: https://")
	}
	w.Write(host)
	w.WriteString(h.st.portSuffix)
	w.Write(target)
	// A body is never read: close after answering so it is not taken for the next request.
	keep := !ri.closeAfter && !ri.chunked && ri.contentLength <= 0 && !bl.draining.Load()
	if keep {
		w.WriteString("\r\nContent-Length: 0\r\n\r\n")
	} else {
		w.WriteString("\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	}
	if err := w.Flush(); err != nil {
		return false
	}
	if bl.cfg.AccessLog {
		bl.log.Info("redirect", "client", h.ip, "listener", l.Name, "host", string(ri.host), "target", string(ri.target), "status", l.RedirectCode)
	}
	return keep
}

// stripPort removes a :port from a Host value (IPv6 literals keep brackets).
func stripPort(host []byte) []byte {
	if len(host) > 0 && host[0] == '[' {
		if i := bytes.IndexByte(host, ']'); i > 0 {
			return host[:i+1]
		}
		return host
	}
	if i := bytes.LastIndexByte(host, ':'); i >= 0 {
		return host[:i]
	}
	return host
}

// validHost accepts DNS names and IP literals only, so a Location header can
// never be smuggled anything else.
func validHost(h []byte) bool {
	if len(h) == 0 || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == '_', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}
