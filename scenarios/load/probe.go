package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// ProbeUser is the User of every probe record.
const ProbeUser = "probe"

// probeSources are the source addresses the probes use: the first two of the
// configured ones, or the system's choice when none are configured.
func probeSources(cfg *Config) []netip.Addr {
	if len(cfg.SourceIPs) == 0 {
		return []netip.Addr{{}}
	}
	return cfg.SourceIPs[:min(2, len(cfg.SourceIPs))]
}

// checkProbeConfig reports what a probe cannot do without.
func checkProbeConfig(cfg *Config, probe string) error {
	var errs []error
	if len(cfg.Domains) == 0 {
		errs = append(errs, errors.New("no domains"))
	}
	if cfg.CA == nil {
		errs = append(errs, errors.New("no CA: certificates are always verified"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s config: %w", probe, err)
	}
	return nil
}

// probeClient never follows redirects and dials from source.
func probeClient(cfg *Config, source netip.Addr) *http.Client {
	return &http.Client{
		Transport:     newUserTransport(cfg, source),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       cfg.Timeout,
	}
}

// probeGet sends one GET without cookies and records what came back.
// Transport errors go into the record, not the return value.
func probeGet(ctx context.Context, c *http.Client, source netip.Addr, tenant, url string, op history.Op) history.Request {
	return probeDo(ctx, c, source, history.Request{User: ProbeUser, Tenant: tenant, Method: http.MethodGet, URL: url, Op: op}, nil)
}

// probeDo sends the request rec describes (Method, URL; form as its body
// when set; rec.TokenSent as the session cookie when set) and records what
// came back. Transport errors go into the record, not the return value.
func probeDo(ctx context.Context, c *http.Client, source netip.Addr, rec history.Request, form url.Values) history.Request {
	if source.IsValid() {
		rec.SourceIP = source.String()
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	var ct connTrace
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, ct.trace()), rec.Method, rec.URL, body)
	rec.Start = time.Now()
	if err != nil {
		rec.Err = fmt.Sprintf("build request: %v", err)
		return rec
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rec.TokenSent != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: rec.TokenSent})
	}
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		_ = resp.Body.Close() // read to the end; a close error changes nothing
	}
	rec.Latency = time.Since(rec.Start)
	local, remote := ct.addrs()
	if ip := hostIP(local); ip != "" {
		rec.SourceIP = ip
	}
	if resp != nil {
		if serr := addResponse(&rec, resp, remote); serr != nil && err == nil {
			err = fmt.Errorf("decode %s: %w", headerSeen, serr)
		}
	}
	if err != nil {
		rec.Err = err.Error()
	}
	return rec
}
