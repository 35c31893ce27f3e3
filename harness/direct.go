package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SendDirect logs in as user at one provider's internal address for
// tenant, bypassing the balancer, and sends one message with a chosen id.
// Drills use it to write the same row on both masters on purpose.
func (l *Lab) SendDirect(ctx context.Context, provider, tenant, user, msgID string) error {
	addr, ok := l.Internal()[provider][tenant]
	if !ok {
		return fmt.Errorf("send %s directly: provider %s serves no tenant %s in this lab", msgID, provider, tenant)
	}
	password := l.opts.Password
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	base := "http://" + tenant
	post := func(path string, form url.Values, cookie *http.Cookie) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Proto", "https")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return resp, nil
	}
	resp, err := post("/login", url.Values{"user": {user}, "password": {password}}, nil)
	if err != nil {
		return fmt.Errorf("log in at %s: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("log in at %s: status %d", addr, resp.StatusCode)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "regify_session" {
			session = ck
		}
	}
	if session == nil {
		return fmt.Errorf("log in at %s: no session cookie", addr)
	}
	resp, err = post("/messages", url.Values{"id": {msgID}, "to": {"conflict"}, "body": {"written on both masters"}}, &http.Cookie{Name: session.Name, Value: session.Value})
	if err != nil {
		return fmt.Errorf("send %s at %s: %w", msgID, addr, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("send %s at %s: status %d", msgID, addr, resp.StatusCode)
	}
	return nil
}
