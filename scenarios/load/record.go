package load

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"

	"github.com/regify-verify/regify-verify/history"
)

// Response headers the providers and the balancer set.
const (
	headerProvider = "X-Regify-Provider"
	headerTenant   = "X-Regify-Tenant"
	headerUser     = "X-Regify-User"
	headerBackend  = "X-Regify-Backend"
	headerSeen     = "X-Regify-Seen"
)

// connTrace remembers the addresses of the connection a request used.
type connTrace struct {
	mu     sync.Mutex
	local  net.Addr
	remote net.Addr
}

func (c *connTrace) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		c.mu.Lock()
		c.local, c.remote = info.Conn.LocalAddr(), info.Conn.RemoteAddr()
		c.mu.Unlock()
	}}
}

func (c *connTrace) addrs() (local, remote net.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local, c.remote
}

// hostIP is the IP of a net.Addr without its port.
func hostIP(a net.Addr) string {
	if a == nil {
		return ""
	}
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

// addResponse fills the facts of a response into rec.
func addResponse(rec *history.Request, resp *http.Response, remote net.Addr) error {
	rec.Status = resp.StatusCode
	h := resp.Header
	rec.Provider = h.Get(headerProvider)
	rec.ServedTenant = h.Get(headerTenant)
	rec.SessionUser = h.Get(headerUser)
	rec.Location = h.Get("Location")
	rec.Backend = h.Get(headerBackend)
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			rec.TokenReceived = c.Value
		}
	}
	if resp.TLS != nil {
		rec.TLS = stateFacts(resp.TLS, rec.Tenant)
		if remote != nil {
			rec.TLS.Address = remote.String()
		}
	}
	if s := h.Get(headerSeen); s != "" {
		var seen history.Seen
		if err := json.Unmarshal([]byte(s), &seen); err != nil {
			return err
		}
		rec.Seen = &seen
	}
	return nil
}

// stateFacts describes a finished handshake. Verified is true when the
// chain was verified for expected (by crypto/tls or by verifyPeer).
func stateFacts(cs *tls.ConnectionState, expected string) *history.TLSFacts {
	f := &history.TLSFacts{
		ServerName: cs.ServerName,
		Version:    tls.VersionName(cs.Version),
		Cipher:     tls.CipherSuiteName(cs.CipherSuite),
		ALPN:       cs.NegotiatedProtocol,
		Expected:   expected,
		Verified:   len(cs.VerifiedChains) > 0,
		Resumed:    cs.DidResume,
	}
	if len(cs.PeerCertificates) > 0 {
		leaf := cs.PeerCertificates[0]
		f.PeerNames = leaf.DNSNames
		f.NotAfter = leaf.NotAfter
	}
	return f
}

// failed reports whether a request counts as an error in the stats.
func failed(rec *history.Request) bool { return !rec.OK() }
