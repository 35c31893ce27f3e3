package deploy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// siteInfo is what one GET of a name's https base URL showed beyond the TLS
// probes: when its certificate expires and whether it sends HSTS.
type siteInfo struct {
	Domain   string
	NotAfter time.Time
	HSTS     string // Strict-Transport-Security, "" when absent
	Status   int
	Err      string
}

// probeSite fetches the https base URL of dom once, verifying the chain
// against roots.
func probeSite(ctx context.Context, cfg load.Config, dom Domain, src netip.Addr) siteInfo {
	info := siteInfo{Domain: dom.Name}
	dial := cfg.Dialer()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dial(ctx, src, network, addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: cfg.CA, MinVersion: tls.VersionTLS10},
		TLSHandshakeTimeout: cfg.Timeout,
		DisableKeepAlives:   true,
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dom.HTTPS, nil)
	if err != nil {
		info.Err = fmt.Sprintf("build request: %v", err)
		return info
	}
	resp, err := c.Do(req)
	if err != nil {
		info.Err = check.PlainReason(err.Error())
		return info
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	info.Status = resp.StatusCode
	info.HSTS = resp.Header.Get("Strict-Transport-Security")
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		info.NotAfter = resp.TLS.PeerCertificates[0].NotAfter
	}
	return info
}
