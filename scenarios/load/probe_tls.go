package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// LegacyTLSProbeUser is the User of the tls-probe records whose handshake
// offered only TLS 1.0 and 1.1: the balancer must refuse it. The tls
// invariant (check.TLSLegacyProbeUser) judges those records by that name.
const LegacyTLSProbeUser = "probe-legacy-tls"

// ProbeTLS shakes hands with every domain's https address (its public IP,
// through cfg.Dial) three times: sending the name as SNI, sending no SNI, as
// an old client would, and sending the name but offering only TLS 1.0 and
// 1.1 (User LegacyTLSProbeUser), which must be refused. It records the facts
// of each handshake with Op tls-probe. The chain is always verified by hand
// against cfg.CA for the domain's name, also when no SNI was sent.
// Handshake errors are recorded, not returned.
func ProbeTLS(ctx context.Context, cfg Config, sink Sink) error {
	if err := checkProbeConfig(&cfg, "TLS probe"); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	src := probeSources(&cfg)[0]
	for _, d := range cfg.Domains {
		base, err := baseURL(d.HTTPS, "https")
		if err != nil {
			return fmt.Errorf("TLS probe of %s: %w", d.Name, err)
		}
		port := base.Port()
		if port == "" {
			port = "443"
		}
		addr := net.JoinHostPort(base.Hostname(), port)
		for _, sni := range []string{base.Hostname(), ""} {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("TLS probe of %s: %w", d.Name, err)
			}
			rec := handshake(ctx, &cfg, src, base.Hostname(), addr, sni, 0)
			rec.URL = base.String()
			sink.Add(rec)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("TLS probe of %s: %w", d.Name, err)
		}
		rec := handshake(ctx, &cfg, src, base.Hostname(), addr, base.Hostname(), tls.VersionTLS11)
		rec.User = LegacyTLSProbeUser
		rec.URL = base.String()
		sink.Add(rec)
	}
	return nil
}

// handshake makes one TLS handshake to addr sending sni (none when empty)
// and verifies the peer's chain for expected. maxVersion caps the versions
// offered (0: up to TLS 1.3).
func handshake(ctx context.Context, cfg *Config, src netip.Addr, expected, addr, sni string, maxVersion uint16) history.Request {
	rec := history.Request{User: ProbeUser, Tenant: expected, Op: history.OpTLS, Start: time.Now()}
	if src.IsValid() {
		rec.SourceIP = src.String()
	}
	facts := &history.TLSFacts{ServerName: sni, Expected: expected}
	rec.TLS = facts
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	raw, err := cfg.Dial(ctx, src, "tcp", addr)
	if err != nil {
		rec.Latency = time.Since(rec.Start)
		rec.Err = err.Error()
		facts.VerifyErr = "no handshake: " + err.Error()
		return rec
	}
	defer raw.Close()
	facts.Address = raw.RemoteAddr().String()
	if ip := hostIP(raw.LocalAddr()); ip != "" {
		rec.SourceIP = ip
	}
	conn := tls.Client(raw, &tls.Config{
		ServerName: sni, // empty: no SNI is sent
		// Verification is done below by hand, for the expected name, so that
		// a handshake without SNI is checked the same way.
		InsecureSkipVerify: true, //nolint:gosec // verified by hand below
		NextProtos:         []string{"h2", "http/1.1"},
		MinVersion:         tls.VersionTLS10, // observe old versions rather than refuse them
		MaxVersion:         maxVersion,
	})
	err = conn.HandshakeContext(ctx)
	rec.Latency = time.Since(rec.Start)
	if err != nil {
		rec.Err = fmt.Sprintf("TLS handshake with %s (SNI %q): %v", addr, sni, err)
		facts.VerifyErr = "no handshake: " + err.Error()
		return rec
	}
	cs := conn.ConnectionState()
	got := stateFacts(&cs, expected)
	got.Address, got.ServerName = facts.Address, sni
	if err := verifyPeer(cs.PeerCertificates, cfg.CA, expected); err != nil {
		got.Verified, got.VerifyErr = false, err.Error()
	} else {
		got.Verified = true
	}
	rec.TLS = got
	return rec
}

// verifyPeer checks the chain the server sent against roots for name.
func verifyPeer(certs []*x509.Certificate, roots *x509.CertPool, name string) error {
	if len(certs) == 0 {
		return fmt.Errorf("no certificate presented")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		DNSName:       name,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("verify certificate for %s: %w", name, err)
	}
	return nil
}
