package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// balancerCase is one configuration of examples/ and what Check must say.
type balancerCase struct {
	file string
	// fail is the invariant that must fail; "" means every invariant
	// passes or is skipped.
	fail string
	// spreadWarning: all clients must land on one provider (nginx ip_hash).
	spreadWarning bool
}

const (
	haproxyBin = "/usr/sbin/haproxy"
	nginxBin   = "/usr/sbin/nginx"
)

func TestHAProxyConfigs(t *testing.T) {
	// Its own processes on its own ports: beside the other long tests.
	t.Parallel()
	bin := lookBinary(t, haproxyBin, "haproxy")
	cases := []balancerCase{
		{file: "good.cfg.tmpl"},
		{file: "broken-cookie.cfg.tmpl", fail: check.NameStickiness},
		{file: "broken-roundrobin.cfg.tmpl", fail: check.NameStickiness},
		{file: "broken-noredirect.cfg.tmpl", fail: check.NameRedirect},
		{file: "broken-noxfp.cfg.tmpl", fail: check.NameForwardedHeaders},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			rig := newRig(t)
			cfg := rig.render(t, filepath.Join("..", "..", "examples", "haproxy", tc.file))
			out, err := exec.Command(bin, "-c", "-q", "-f", cfg).CombinedOutput()
			require.NoError(t, err, "haproxy -c: %s", out)
			exited := startProcess(t, bin, "-db", "-f", cfg)
			rig.waitReady(t, exited)
			// Up on its own ports: the check runs beside the other cases.
			t.Parallel()
			runBalancerCase(t, rig, tc)
		})
	}
}

func TestNginxConfigs(t *testing.T) {
	// Its own processes on its own ports: beside the other long tests.
	t.Parallel()
	bin := lookBinary(t, nginxBin, "nginx")
	cases := []balancerCase{
		{file: "good.conf.tmpl"},
		{file: "broken-iphash.conf.tmpl", spreadWarning: true},
		{file: "broken-roundrobin.conf.tmpl", fail: check.NameStickiness},
		{file: "broken-noredirect.conf.tmpl", fail: check.NameRedirect},
		{file: "broken-noxfp.conf.tmpl", fail: check.NameForwardedHeaders},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			rig := newRig(t)
			cfg := rig.render(t, filepath.Join("..", "..", "examples", "nginx", tc.file))
			out, err := exec.Command(bin, "-e", "stderr", "-p", rig.Dir, "-c", cfg, "-t", "-q").CombinedOutput()
			require.NoError(t, err, "nginx -t: %s", out)
			exited := startProcess(t, bin, "-e", "stderr", "-p", rig.Dir, "-c", cfg)
			rig.waitReady(t, exited)
			// Up on its own ports: the check runs beside the other cases.
			t.Parallel()
			runBalancerCase(t, rig, tc)
		})
	}
}

func lookBinary(t *testing.T, path, name string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Skipf("%s is not installed (apt-get install %s): the real-balancer proof of target mode is skipped", name, name)
	return ""
}

func runBalancerCase(t *testing.T, rig *tmplData, tc balancerCase) {
	t.Helper()
	d := rig.deployment(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Check(ctx, d, Options{Seed: 7, RunID: "t1"})
	require.NoError(t, err)
	require.Len(t, rep.Scenarios, 1)
	sc := &rep.Scenarios[0]
	logScenario(t, sc)
	require.Empty(t, sc.Error)
	v := verdicts(sc)
	// Every configuration serves both names with their own certificates
	// and answers: the broken part is exactly the one it breaks.
	assert.Equal(t, reports.Pass, v[check.NameTLS], "tls")
	assert.Equal(t, reports.Pass, v[NameReachability], "reachability")
	assert.Equal(t, reports.Pass, v[check.NameSessionContinuity], "session-continuity")
	assert.Equal(t, reports.Pass, v[check.NameCookieIsolation], "cookie-isolation")
	if tc.fail == "" {
		assert.Empty(t, failing(sc), "a good configuration must pass")
		assert.Equal(t, reports.Pass, rep.Verdict)
	} else {
		assert.Equal(t, []string{tc.fail}, failing(sc), "exactly the broken invariant fails")
		assert.Equal(t, reports.Fail, rep.Verdict)
	}
	assert.Equal(t, tc.spreadWarning, SpreadWarning(sc), "spread warning")
}
