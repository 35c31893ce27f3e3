package harness

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/regify-verify/regify-verify/internal/pki"
	"github.com/regify-verify/regify-verify/lb"
)

// TestBalancerConfigFile: the configuration a balancer container is given
// as a file reads back as written: durations, broken modes (a negative
// control's round robin must reach the container), the admin endpoint.
func TestBalancerConfigFile(t *testing.T) {
	l := &Lab{opts: Options{HealthInterval: 250 * time.Millisecond, HealthFall: 2, Balancer: BalancerBroken{RoundRobin: true}}}
	cfg := l.balancerBase()
	cfg.Admin = "0.0.0.0:9000"
	cfg.Listeners = []lb.Listener{
		{Name: "abc.test-https", Mode: lb.ModeHTTPS, Address: "0.0.0.0:8443", Pool: "abc.test", Host: "abc.test"},
		{Name: "abc.test-http", Mode: lb.ModeRedirect, Address: "0.0.0.0:8080", Pool: "abc.test", Host: "abc.test", RedirectPort: 8443},
	}
	cfg.Pools = []lb.Pool{{Name: "abc.test", Host: "abc.test", Backends: []lb.Backend{
		{Name: "p1-abc.test", Address: "198.19.3.1:41000", Provider: "p1"},
		{Name: "p2-abc.test", Address: "198.19.3.1:41001", Provider: "p2"},
	}}}
	ca, err := pki.NewCA("test")
	require.NoError(t, err)
	leaf, err := ca.Issue([]string{"abc.test"}, nil, time.Hour)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "abc.test.crt"), leaf.CertPEM, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "abc.test.key"), leaf.KeyPEM, 0o600))
	cfg.Certificates = []lb.Certificate{{Names: []string{"abc.test"}, CertFile: "abc.test.crt", KeyFile: "abc.test.key"}}
	b, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	got, err := lb.ParseConfig(b, dir)
	require.NoError(t, err, "%s", b)
	assert.Equal(t, 250*time.Millisecond, got.HealthCheck.Interval)
	assert.Equal(t, 500*time.Millisecond, got.HealthCheck.Timeout)
	assert.Equal(t, 2, got.HealthCheck.Fall)
	assert.Equal(t, time.Second, got.Timeouts.Connect)
	assert.True(t, got.Broken.RoundRobin, "the broken mode reaches the container")
	assert.Equal(t, "0.0.0.0:9000", got.Admin)
	assert.Equal(t, cfg.Listeners, got.Listeners)
	assert.Equal(t, cfg.Pools[0].Backends, got.Pools[0].Backends)
}
