package deploy

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/internal/pki"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// writeDeployment writes a deployment file into a temp dir and loads it.
func writeDeployment(t *testing.T, yaml string) *Deployment {
	t.Helper()
	path := filepath.Join(t.TempDir(), "deployment.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	d, err := Load(path)
	require.NoError(t, err)
	return d
}

func findVerdict(t *testing.T, sc *reports.Scenario, name string) reports.Invariant {
	t.Helper()
	for _, inv := range sc.Invariants {
		if inv.Name == name {
			return inv
		}
	}
	t.Fatalf("no invariant %s in %s", name, sc.Name)
	return reports.Invariant{}
}

func allText(inv reports.Invariant) string {
	return inv.Summary + "\n" + strings.Join(inv.Evidence, "\n")
}

// An unreachable balancer and a refused database are failed checks with a
// plain reason, not a crash; no password reaches the report.
func TestCheckUnreachableTargetAndDatabase(t *testing.T) {
	https, http := closedPort(t, "127.0.5.1"), closedPort(t, "127.0.5.1")
	dbA, dbB := closedPort(t, "127.0.0.1"), closedPort(t, "127.0.0.1")
	d := writeDeployment(t, fmt.Sprintf(`name: unreachable
domains:
  - name: abc.test
    https: https://abc.test:%d/
    http: http://abc.test:%d/
    address: 127.0.5.1
clients:
  source_ips: 127.0.10.1-127.0.10.3
session:
  password: pw-must-not-leak
load: {users: 3, rate: 30, duration: 1s, timeout: 1s}
database:
  a: app:db-secret-a@tcp(127.0.0.1:%d)/regify
  b: app:db-secret-b@tcp(127.0.0.1:%d)/regify
  tables: [messages]
`, https, http, dbA, dbB))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Check(ctx, d, Options{Seed: 1, RunID: "unreach"})
	require.NoError(t, err)
	require.Len(t, rep.Scenarios, 1)
	sc := &rep.Scenarios[0]
	logScenario(t, sc)
	assert.Empty(t, sc.Error, "an unreachable target is a verdict, not an error")
	assert.Equal(t, reports.Fail, rep.Verdict)

	reach := findVerdict(t, sc, NameReachability)
	assert.Equal(t, reports.Fail, reach.Verdict)
	assert.Contains(t, allText(reach), "nothing listens there (connection refused)")
	assert.Equal(t, reports.Fail, findVerdict(t, sc, check.NameTLS).Verdict)

	health := findVerdict(t, sc, check.NameReplicationHealth)
	assert.Equal(t, reports.Fail, health.Verdict)
	assert.Contains(t, allText(health), "connection refused: nothing listens there")
	assert.Contains(t, allText(health), "app:***@tcp(127.0.0.1:")

	var buf bytes.Buffer
	require.NoError(t, reports.WriteJSON(&buf, rep))
	for _, secret := range []string{"pw-must-not-leak", "db-secret-a", "db-secret-b"} {
		assert.NotContains(t, buf.String(), secret)
	}
}

// A certificate from a CA the deployment does not trust fails tls and
// reachability with a plain reason.
func TestCheckUntrustedCertificate(t *testing.T) {
	bin := lookBinary(t, haproxyBin, "haproxy")
	rig := newRig(t)
	other, err := pki.NewCA("someone-else")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(rig.CAFile+".other", other.PEM, 0o600))
	cfg := rig.render(t, filepath.Join("..", "..", "examples", "haproxy", "good.cfg.tmpl"))
	rig.waitReady(t, startProcess(t, bin, "-db", "-f", cfg))
	rig.CAFile += ".other"
	d := rig.deployment(t, "")
	d.Load.Duration = time.Second
	rep, err := Check(context.Background(), d, Options{Seed: 1, RunID: "untrusted"})
	require.NoError(t, err)
	sc := &rep.Scenarios[0]
	logScenario(t, sc)
	tlsInv := findVerdict(t, sc, check.NameTLS)
	assert.Equal(t, reports.Fail, tlsInv.Verdict)
	reach := findVerdict(t, sc, NameReachability)
	assert.Equal(t, reports.Fail, reach.Verdict)
	assert.Contains(t, allText(reach), "the certificate does not verify")
}
