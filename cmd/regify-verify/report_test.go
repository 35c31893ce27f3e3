package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/fakeprovider"
	"github.com/regify-verify/regify-verify/internal/pki"
	"github.com/regify-verify/regify-verify/reports"
)

// cli runs the command line in-process and requires exit code want.
func cli(t *testing.T, want int, args ...string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := realMain(args, &out, &errOut)
	require.Equal(t, want, code, "regify-verify %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), &out, &errOut)
}

// verdicts are a report's verdicts: the run's under "", each scenario's
// under its name, each invariant's under scenario/invariant.
func verdicts(t *testing.T, dir string) map[string]reports.Verdict {
	t.Helper()
	rep, err := reports.ReadJSON(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	v := map[string]reports.Verdict{"": rep.Verdict}
	for _, sc := range rep.Scenarios {
		v[sc.Name] = sc.Verdict
		for _, inv := range sc.Invariants {
			v[sc.Name+"/"+inv.Name] = inv.Verdict
		}
	}
	return v
}

// assertReportAgain re-renders and re-judges the run in dir, each into a
// directory of its own, and checks that both give the run's verdicts and
// write every output.
func assertReportAgain(t *testing.T, dir string, code int) {
	t.Helper()
	want := verdicts(t, dir)
	require.Greater(t, len(want), 2, "the run judged nothing: %v", want)
	cases := []struct {
		name string
		args []string
	}{
		{"re-render", nil},
		{"re-judge", []string{"--rejudge"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "again")
			cli(t, code, append([]string{"report", "--from", dir, "--out", out}, tc.args...)...)
			assert.Equal(t, want, verdicts(t, out))
			for _, f := range []string{"index.html", "junit.xml", "summary.md"} {
				assert.FileExists(t, filepath.Join(out, f))
			}
		})
	}
}

// TestReportFromLabRun: a short lab run (no database, no Docker), then
// 'report --from' re-renders it and 'report --from --rejudge' judges its
// history again with the same verdicts.
func TestReportFromLabRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the lab; skipped with -short")
	}
	dir := filepath.Join(t.TempDir(), "run")
	cli(t, exitOK, "run", "--scenario", "redirect-and-tls", "--duration", "2s", "--seed", "7", "--out", dir)
	require.FileExists(t, filepath.Join(dir, "history", "redirect-and-tls.jsonl"))
	assertReportAgain(t, dir, exitOK)
}

// TestReportFromCheck: 'regify-verify check' against one fake provider
// serving abc.test over TLS (no balancer: forwarded-headers fails, so the
// run exits 1), then 'report --from' and 'report --from --rejudge' give
// the same verdicts. The history is named after the deployment, which is
// no scenario of the lab's catalogue.
func TestReportFromCheck(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.NewCA("report-test")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o600))
	leaf, err := ca.Issue([]string{"abc.test"}, nil, 30*24*time.Hour)
	require.NoError(t, err)
	p, err := fakeprovider.New(fakeprovider.Config{ID: "p1", Tenants: []string{"abc.test"}, Store: fakeprovider.NewMemoryStore(),
		TLS: map[string]tls.Certificate{"abc.test": leaf.TLS}, ShowSeen: true})
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), fakeprovider.Bind{Addr: "127.0.7.2:0", Tenant: "abc.test"}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	addr := p.Addrs()[0]
	file := filepath.Join(dir, "deployment.yaml")
	require.NoError(t, os.WriteFile(file, fmt.Appendf(nil, `name: staging
domains:
  - name: abc.test
    https: https://abc.test:%s/
    address: 127.0.7.2
tls:
  ca_file: ca.pem
clients:
  source_ips: 127.0.12.1-127.0.12.3
load:
  users: 3
  rate: 30
  duration: 1s
`, addr[strings.LastIndexByte(addr, ':')+1:]), 0o600))
	out := filepath.Join(dir, "out")
	cli(t, exitFailed, "check", "--target", file, "--seed", "7", "--out", out)
	require.FileExists(t, filepath.Join(out, "history", "staging.jsonl"))
	assert.Equal(t, reports.Fail, verdicts(t, out)["staging/forwarded-headers"])
	assertReportAgain(t, out, exitFailed)
}
