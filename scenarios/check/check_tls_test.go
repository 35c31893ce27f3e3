package check

import (
	"testing"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// legacyProbe is a handshake that offered only TLS 1.0 and 1.1; version is
// what the server accepted ("" when it refused).
func legacyProbe(addr, name, version, err string) history.Request {
	r := tlsProbe(addr, name, version, version != "", name)
	r.User = TLSLegacyProbeUser
	r.Err = err
	return r
}

func TestTLSLegacyVersions(t *testing.T) {
	inv := TLS{}
	good := []history.Request{
		tlsProbe("127.0.1.1:8443", "abc.test", "TLS 1.3", true, "abc.test"),
		tlsProbe("127.0.1.1:8443", "", "TLS 1.3", true, "abc.test"),
	}
	refused := legacyProbe("127.0.1.1:8443", "abc.test", "", "TLS handshake: remote error: tls: protocol version not supported")
	cases := []tcase{
		{"TLS 1.0/1.1 refused", inv, hist(append(good, refused)...), reports.Pass,
			[]string{"1 handshakes offering only TLS 1.0/1.1 refused"}},
		{"TLS 1.0 accepted (negative control)", inv, hist(append(good, legacyProbe("127.0.1.1:8443", "abc.test", "TLS 1.0", ""))...),
			reports.Fail, []string{"abc.test at 127.0.1.1:8443 accepted TLS 1.0", "disable TLS 1.0 and 1.1"}},
		{"TLS 1.1 accepted (negative control)", inv, hist(append(good, legacyProbe("127.0.1.1:8443", "abc.test", "TLS 1.1", ""))...),
			reports.Fail, []string{"abc.test at 127.0.1.1:8443 accepted TLS 1.1"}},
		{"a history without legacy probes is judged as before", inv, hist(good...), reports.Pass,
			[]string{"2 TLS probes of 1 public IPs"}},
	}
	runCases(t, cases)
}
