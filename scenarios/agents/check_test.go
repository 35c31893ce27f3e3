package agents_test

import (
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

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/agents"
	"github.com/regify-verify/regify-verify/scenarios/deploy"
)

// TestCheckWithAgents: 'check' of a deployment (the lab as one, through
// its deployment file) with its users on two local agents passes as
// without them, each agent with its share of the file's source
// addresses, and the agents keep the file's read-only load: a deployment
// that allows no writes gets none from an agent either.
func TestCheckWithAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab and agent processes; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lab, err := harness.Up(ctx, harness.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = lab.Close(context.Background()) })
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), lab.CAPEM(), 0o644))
	var doms strings.Builder
	for _, ep := range lab.Endpoints() {
		_, https, _ := net.SplitHostPort(ep.HTTPSAt)
		_, http, _ := net.SplitHostPort(ep.HTTPAt)
		fmt.Fprintf(&doms, "  - {name: %s, https: \"https://%s:%s/\", http: \"http://%s:%s/\", address: %s}\n", ep.Name, ep.Name, https, ep.Name, http, ep.PublicIP)
	}
	file := filepath.Join(dir, "deployment.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`name: lab-as-target
domains:
`+doms.String()+`tls:
  ca_file: ca.pem
  min_validity: 24h  # the lab's certificates live 7 days
clients:
  source_ips: 127.0.10.1-127.0.10.6
session:
  password: regify
  writes: false
load: {users: 6, rate: 40, duration: 3s, timeout: 3s}
`), 0o644))
	d, err := deploy.Load(file)
	require.NoError(t, err)

	hdir := t.TempDir()
	rep, err := deploy.Check(ctx, d, deploy.Options{Seed: 5, HistoryDir: hdir, Load: agents.Driver{Agents: 2, Engine: agents.Local{}}})
	require.NoError(t, err)
	require.Len(t, rep.Scenarios, 1)
	sc := rep.Scenarios[0]
	for _, inv := range sc.Invariants {
		assert.NotEqual(t, reports.Fail, inv.Verdict, "%s: %s %v", inv.Name, inv.Summary, inv.Evidence)
	}
	require.Equal(t, reports.Pass, sc.Verdict, "%v %s", sc.NotJudged, sc.Error)
	require.Len(t, sc.Agents, 2)
	for i, a := range sc.Agents {
		assert.Empty(t, a.Died)
		assert.Positive(t, a.Requests)
		assert.Len(t, a.SourceIPs, 3, "agent %d: its share of the file's addresses", i+1)
	}

	files, err := filepath.Glob(filepath.Join(hdir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	f, err := os.Open(files[0])
	require.NoError(t, err)
	defer f.Close()
	h, err := history.Read(f)
	require.NoError(t, err)
	ops := map[history.Op]int{}
	for _, r := range h.Requests {
		ops[r.Op]++
	}
	assert.Positive(t, ops[history.OpLogin], "the agents logged in")
	assert.Zero(t, ops[history.OpSend], "writes: false reaches the agents: nothing sent (%v)", ops)
}
