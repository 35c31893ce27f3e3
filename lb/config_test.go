package lb

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exampleDir copies examples/lb/lb.yaml into a temp dir with certificates
// for the names it references.
func exampleDir(t *testing.T) (string, []byte) {
	t.Helper()
	c := newCerts(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "certs"), 0o755))
	_, _, err := c.abc.WriteFiles(filepath.Join(dir, "certs"), "abc.test")
	require.NoError(t, err)
	_, _, err = c.def.WriteFiles(filepath.Join(dir, "certs"), "def.test")
	require.NoError(t, err)
	data, err := os.ReadFile("../examples/lb/lb.yaml")
	require.NoError(t, err)
	return dir, data
}

func TestLoadConfigExample(t *testing.T) {
	dir, data := exampleDir(t)
	path := filepath.Join(dir, "lb.yaml")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	cfg, err := LoadConfig(path)
	require.NoError(t, err)
	require.Len(t, cfg.Listeners, 4)
	assert.Equal(t, "127.0.1.1:8443", cfg.Listeners[0].Address)
	assert.Equal(t, ModeRedirect, cfg.Listeners[2].Mode)
	assert.Equal(t, 2*time.Second, cfg.HealthCheck.Interval)
	assert.Equal(t, "127.0.2.4:8000", cfg.Pools[1].Backends[1].Address)
	require.NotNil(t, cfg.Certificates[0].TLS)
	_, err = New(cfg, nil)
	require.NoError(t, err)
}

func TestLoadConfigErrorsNameTheField(t *testing.T) {
	dir, good := exampleDir(t)
	tests := []struct {
		name      string
		edit      func(string) string
		wantField string
		wantLine  bool
	}{
		{"unknown field", func(s string) string { return strings.Replace(s, "max_header_bytes:", "max_headr_bytes:", 1) }, "max_headr_bytes", true},
		{"unknown nested field", func(s string) string {
			return strings.Replace(s, "redirect_port: 8443       #", "redirect_prt: 8443       #", 1)
		}, "listeners[2].redirect_prt", true},
		{"bad listener address", func(s string) string { return strings.Replace(s, "127.0.1.2:8443", "127.0.1.2", 1) }, "listeners[1].address", true},
		{"bad mode", func(s string) string { return strings.Replace(s, "mode: https", "mode: tls", 1) }, "listeners[0].mode", true},
		{"unknown pool", func(s string) string { return strings.Replace(s, "pool: def", "pool: ghi", 1) }, "listeners[1].pool", true},
		{"redirect code", func(s string) string { return strings.Replace(s, "redirect_code: 308", "redirect_code: 302", 1) }, "listeners[2].redirect_code", true},
		{"mask", func(s string) string { return strings.Replace(s, "ipv4_mask: 32", "ipv4_mask: 16", 1) }, "persistence.ipv4_mask", true},
		{"fall", func(s string) string { return strings.Replace(s, "fall: 3", "fall: -1", 1) }, "health_check.fall", true},
		{"bad duration", func(s string) string { return strings.Replace(s, "interval: 2s", "interval: often", 1) }, "health_check.interval", true},
		{"missing certificate file", func(s string) string { return strings.Replace(s, "certs/def.test.crt", "certs/nope.crt", 1) }, "certificates[1].cert_file", true},
		{"backend address", func(s string) string { return strings.Replace(s, `"127.0.2.3:8000"`, `"127.0.2.3"`, 1) }, "pools[0].backends[1].address", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "lb.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.edit(string(good))), 0o644))
			_, err := LoadConfig(path)
			require.Error(t, err)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tc.wantField, ce.Field, err.Error())
			if tc.wantLine {
				assert.Positive(t, ce.Line, err.Error())
			}
			t.Log(err)
		})
	}
}

func TestNewRejectsBadGoConfig(t *testing.T) {
	c := newCerts(t)
	b := &testBackend{name: "p1", addr: "127.0.0.1:1"}
	tests := []struct {
		name      string
		mod       func(*Config)
		wantField string
	}{
		{"no listeners", func(c *Config) { c.Listeners = nil }, "listeners"},
		{"https without certificates", func(c *Config) { c.Certificates = nil }, "certificates"},
		{"empty pool", func(c *Config) { c.Pools[0].Backends = nil }, "pools[0].backends"},
		{"two persistence modes", func(c *Config) { c.Broken.RoundRobin, c.Broken.CookieInsert = true, true }, "broken.cookie_insert"},
		{"cookie hash and round robin", func(c *Config) { c.Broken.RoundRobin, c.Broken.CookieHash = true, "regify_session" }, "broken.cookie_hash"},
		{"proxy protocol 3", func(c *Config) { c.Listeners[0].Mode, c.Listeners[0].ProxyProtocol = ModePassthrough, 3 }, "listeners[0].proxy_protocol"},
		{"negative passthrough idle", func(c *Config) { c.Timeouts.PassthroughIdle = -time.Second }, "timeouts.passthrough_idle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := labConfig(c, []*testBackend{b}, []*testBackend{b})
			tc.mod(&cfg)
			_, err := New(cfg, nil)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tc.wantField, ce.Field)
		})
	}
}
