package lb

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// checkLoop runs the active HTTP check of one backend every interval until
// ctx ends. The first check runs at once so a dead backend is out early.
func (bl *Balancer) checkLoop(ctx context.Context, b *backend) {
	hc := bl.cfg.HealthCheck
	t := time.NewTicker(hc.Interval)
	defer t.Stop()
	for {
		err := bl.checkOnce(ctx, b)
		if ctx.Err() != nil {
			return
		}
		reason := ""
		if err != nil {
			reason = err.Error()
		}
		b.markResult(err == nil, reason, hc.Rise, hc.Fall, false)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkOnce does one GET of the health path; 2xx and 3xx count as healthy.
func (bl *Balancer) checkOnce(ctx context.Context, b *backend) error {
	hc := bl.cfg.HealthCheck
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", b.Address)
	if err != nil {
		return fmt.Errorf("health check connect: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	host := b.pool.cfg.Host
	if host == "" {
		host = b.Address
	}
	if b.pool.checkProxy > 0 {
		if _, err := c.Write(proxyLocalHeader(b.pool.checkProxy)); err != nil {
			return fmt.Errorf("health check PROXY header: %w", err)
		}
	}
	if b.pool.checkTLS {
		// Like HAProxy's "check-ssl verify none": the check proves the
		// provider answers over TLS; clients verify its certificate.
		tc := tls.Client(c, &tls.Config{ServerName: hostOnly(host), InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("health check TLS handshake: %w", err)
		}
		c = tc
	}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: regify-lb-check\r\nConnection: close\r\n\r\n", hc.Path, host); err != nil {
		return fmt.Errorf("health check send: %w", err)
	}
	line, err := bufio.NewReaderSize(c, 512).ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("health check read: %w", err)
	}
	code, ok := parseStatusCode(line)
	if !ok {
		return fmt.Errorf("health check: bad status line %q", trimCRLF(line))
	}
	if code < 200 || code >= 400 {
		return fmt.Errorf("health check: status %d", code)
	}
	return nil
}

// proxyLocalHeader is a PROXY header saying "the balancer itself, no client"
// (v1 UNKNOWN, v2 LOCAL), as sent before a health check.
func proxyLocalHeader(version int) []byte {
	if version == 1 {
		return []byte("PROXY UNKNOWN\r\n")
	}
	return append(append([]byte(nil), proxyV2Sig...), 0x20, 0x00, 0x00, 0x00) // LOCAL, AF_UNSPEC, no addresses
}

// hostOnly strips a port from a Host value, for SNI.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}
