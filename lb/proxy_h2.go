package lb

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"

	"golang.org/x/net/http2"
)

// HTTP/2 clients (ALPN h2) go through net/http's HTTP/2 server and a
// ReverseProxy: the lean path is for HTTP/1.1, where the load is.

func (bl *Balancer) serveH2(st *listenerState, tc *trackedConn, c *tls.Conn) {
	bl.h2.ServeConn(c, &http2.ServeConnOpts{BaseConfig: bl.h2base, Handler: st.h2})
}

func (bl *Balancer) h2Handler(st *listenerState, proto string) http.Handler {
	broken := bl.cfg.Broken.NoForwardedProto
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "backend.invalid" // the transport dials the picked backend
			pr.Out.Host = pr.In.Host
			ip := ""
			if ap, err := netip.ParseAddrPort(pr.In.RemoteAddr); err == nil {
				ip = ap.Addr().Unmap().String()
			}
			h := pr.Out.Header
			h.Del("Forwarded")
			h.Set("X-Forwarded-For", ip)
			h.Set("X-Forwarded-Host", pr.In.Host)
			fwd := "for=" + ip
			if ap, err := netip.ParseAddr(ip); err == nil && ap.Is6() {
				fwd = `for="[` + ip + `]"`
			}
			fwd += ";host=" + strconv.Quote(pr.In.Host)
			if !broken {
				h.Set("X-Forwarded-Proto", proto)
				fwd += ";proto=" + proto
			}
			h.Set("Forwarded", fwd)
		},
		Transport: &pickTransport{bl: bl, pool: st.pool},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			code := http.StatusBadGateway
			if errors.Is(err, errNoHealthy) {
				code = http.StatusServiceUnavailable
			}
			bl.log.Debug("h2 forward failed", "client", r.RemoteAddr, "err", err)
			http.Error(w, http.StatusText(code), code)
		},
		ErrorLog: nil,
	}
}

// pickTransport chooses the backend per request (persistence, broken modes)
// and marks backends that refuse connections.
type pickTransport struct {
	bl   *Balancer
	pool *pool
}

func (t *pickTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	bl := t.bl
	var client netip.Addr
	if ap, err := netip.ParseAddrPort(req.RemoteAddr); err == nil {
		client = ap.Addr().Unmap()
	}
	cookie := ""
	if name := bl.cfg.Broken.persistCookie(); name != "" {
		if c, err := req.Cookie(name); err == nil {
			cookie = c.Value
		}
	}
	avoid := -1
	for attempt := 0; ; attempt++ {
		be, setCookie := t.pool.pick(client, cookie, avoid)
		if be == nil {
			return nil, errNoHealthy
		}
		req.URL.Host = be.Address
		resp, err := bl.transport.RoundTrip(req)
		if err != nil {
			var oe *net.OpError
			if errors.As(err, &oe) && oe.Op == "dial" {
				if !bl.cfg.Broken.NoHealthChecks {
					be.markResult(false, err.Error(), bl.cfg.HealthCheck.Rise, bl.cfg.HealthCheck.Fall, true)
				}
				if attempt < 2 && !bl.cfg.Broken.NoHealthChecks && (req.Body == nil || req.Body == http.NoBody) {
					avoid = be.idx
					continue
				}
			}
			return nil, fmt.Errorf("forward to backend %s: %w", be.Name, err)
		}
		be.served.Add(1)
		if bl.cfg.BackendHeader != "" {
			resp.Header.Set(bl.cfg.BackendHeader, be.Name)
		}
		if setCookie {
			resp.Header.Add("Set-Cookie", CookieName+"="+be.Name+"; Path=/")
		}
		if bl.cfg.AccessLog {
			bl.log.Info("request", "client", client.String(), "method", req.Method, "host", req.Host,
				"target", req.URL.RequestURI(), "status", resp.StatusCode, "backend", be.Name, "provider", be.Provider, "proto", "h2")
		}
		return resp, nil
	}
}
