package lb

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// certStore picks a certificate by SNI, falling back to the listener's own
// name for clients that send none (the seed's one public IP per name).
type certStore struct {
	byName   map[string]*tls.Certificate
	wildcard map[string]*tls.Certificate // "*.abc.test" stored as "abc.test"
	all      []*tls.Certificate
	names    [][]string
}

func newCertStore(certs []Certificate) (*certStore, error) {
	s := &certStore{byName: map[string]*tls.Certificate{}, wildcard: map[string]*tls.Certificate{}}
	for i, c := range certs {
		if c.TLS == nil {
			return nil, &ConfigError{Field: fmt.Sprintf("certificates[%d]", i), Err: fmt.Errorf("certificate for %v not loaded", c.Names)}
		}
		s.all = append(s.all, c.TLS)
		s.names = append(s.names, c.Names)
		for _, n := range c.Names {
			n = strings.ToLower(n)
			if strings.HasPrefix(n, "*.") {
				s.wildcard[n[2:]] = c.TLS
			} else {
				s.byName[n] = c.TLS
			}
		}
	}
	return s, nil
}

func (s *certStore) lookup(name string) *tls.Certificate {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if c, ok := s.byName[name]; ok {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c, ok := s.wildcard[name[i+1:]]; ok {
			return c
		}
	}
	return nil
}

// wrong returns a certificate that is not the one for name (broken mode).
func (s *certStore) wrong(right *tls.Certificate) *tls.Certificate {
	for _, c := range s.all {
		if c != right {
			return c
		}
	}
	return right
}

// tlsConfig builds the server config of one HTTPS listener.
func (bl *Balancer) tlsConfig(l Listener) *tls.Config {
	def := bl.certs.lookup(l.Host)
	if def == nil {
		def = bl.certs.all[0]
	}
	wrongMode := bl.cfg.Broken.WrongCertificate
	protos := []string{"h2", "http/1.1"}
	if bl.cfg.TLS.DisableHTTP2 {
		protos = []string{"http/1.1"}
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{ // TLS 1.2 only; 1.3 suites are all modern
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos:             protos,
		SessionTicketsDisabled: bl.cfg.TLS.DisableResumption,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			c := def
			if hello.ServerName != "" {
				if byName := bl.certs.lookup(hello.ServerName); byName != nil {
					c = byName
				}
			}
			if wrongMode {
				c = bl.certs.wrong(c)
			}
			return c, nil
		},
	}
}
