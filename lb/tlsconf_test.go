package lb

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rsaCert is a self-signed RSA-2048 certificate for rsa.test: the test CA
// issues ECDSA only, and the RSA suites (ECDHE_RSA, plain RSA key exchange)
// can only be negotiated with an RSA certificate.
func rsaCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "rsa.test"},
		DNSNames:     []string{"rsa.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// handshake dials addr and completes a TLS handshake with cfg.
func handshake(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

// permissiveServer serves the balancer's own TLS config with the weak
// suites and old versions switched back on: the broken setup that shows a
// refused client is refused by the balancer's policy, not unable to talk.
func permissiveServer(t *testing.T, base *tls.Config) string {
	t.Helper()
	cfg := base.Clone()
	cfg.MinVersion = tls.VersionTLS10
	cfg.CipherSuites = append(cfg.CipherSuites,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestTLSRefusesWeakClients: HTTPS listeners speak TLS 1.2 with ECDHE and
// AEAD suites only, or TLS 1.3. Clients offering only CBC suites, only RSA
// key exchange or at most TLS 1.1 fail the handshake; each of those clients
// succeeds against the same config with the weak options switched back on.
// Modern TLS 1.2 and TLS 1.3 clients succeed with either certificate type.
func TestTLSRefusesWeakClients(t *testing.T) {
	c := newCerts(t)
	rsaTLS, rsaPool := rsaCert(t)
	b := startBackend(t, "p1-abc")
	cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
	cfg.Certificates = append(cfg.Certificates, Certificate{Names: []string{"rsa.test"}, TLS: &rsaTLS})
	bl := startLB(t, cfg)
	permissive := permissiveServer(t, bl.tlsConfig(bl.cfg.Listeners[0]))

	const (
		noSharedSuite = "handshake failure"
		oldVersion    = "protocol version not supported"
	)
	tests := []struct {
		name       string
		serverName string // abc.test: ECDSA P-256, rsa.test: RSA-2048
		min, max   uint16
		suites     []uint16
		wantErr    string // "" = the handshake succeeds
	}{
		{"TLS 1.2 ECDHE-ECDSA CBC only", "abc.test", tls.VersionTLS12, tls.VersionTLS12,
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}, noSharedSuite},
		{"TLS 1.2 ECDHE-RSA CBC only", "rsa.test", tls.VersionTLS12, tls.VersionTLS12,
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}, noSharedSuite},
		{"TLS 1.2 RSA key exchange only", "rsa.test", tls.VersionTLS12, tls.VersionTLS12,
			[]uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384}, noSharedSuite},
		{"TLS 1.1 at most (ECDSA)", "abc.test", tls.VersionTLS10, tls.VersionTLS11, nil, oldVersion},
		{"TLS 1.1 at most (RSA)", "rsa.test", tls.VersionTLS10, tls.VersionTLS11, nil, oldVersion},
		{"TLS 1.2 ECDHE-ECDSA-AES-GCM", "abc.test", tls.VersionTLS12, tls.VersionTLS12,
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, ""},
		{"TLS 1.2 ECDHE-ECDSA-CHACHA20", "abc.test", tls.VersionTLS12, tls.VersionTLS12,
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, ""},
		{"TLS 1.2 ECDHE-RSA-AES-GCM", "rsa.test", tls.VersionTLS12, tls.VersionTLS12,
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, ""},
		{"TLS 1.3 (ECDSA)", "abc.test", tls.VersionTLS13, tls.VersionTLS13, nil, ""},
		{"TLS 1.3 (RSA)", "rsa.test", tls.VersionTLS13, tls.VersionTLS13, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := func() *tls.Config {
				roots := c.ca.Pool()
				if tc.serverName == "rsa.test" {
					roots = rsaPool
				}
				return &tls.Config{ServerName: tc.serverName, RootCAs: roots, MinVersion: tc.min, MaxVersion: tc.max,
					CipherSuites: tc.suites, NextProtos: []string{"http/1.1"}}
			}
			cs, err := handshake(bl.Addrs()[0].String(), client())
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.max, cs.Version)
				if tc.suites != nil {
					assert.Equal(t, tc.suites[0], cs.CipherSuite, "negotiated %s", tls.CipherSuiteName(cs.CipherSuite))
				}
				assert.Equal(t, []string{tc.serverName}, certNames(t, cs))
				return
			}
			require.Error(t, err, "the balancer accepted %s", tls.CipherSuiteName(cs.CipherSuite))
			assert.ErrorContains(t, err, tc.wantErr)
			var verr *tls.CertificateVerificationError
			assert.False(t, errors.As(err, &verr), "refused for its cipher or version, not the certificate: %v", err)

			// The broken setup: the same config with the weak options on
			// lets this very client in.
			cs, err = handshake(permissive, client())
			require.NoError(t, err, "the client can negotiate when the server permits it")
			assert.Equal(t, tc.max, cs.Version)
			if tc.suites != nil {
				assert.Contains(t, tc.suites, cs.CipherSuite, "negotiated %s", tls.CipherSuiteName(cs.CipherSuite))
			}
		})
	}
}
