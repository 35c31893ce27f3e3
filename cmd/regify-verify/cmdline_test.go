package main

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/stretchr/testify/assert"
)

// TestCommandLine: the rerun command of a report fixes the seed, drops the
// seed the user gave in either form, and quotes what a shell would split.
func TestCommandLine(t *testing.T) {
	cases := []struct {
		name string
		argv []string
		want string
	}{
		{"no flags", []string{"regify-verify", "run"}, "regify-verify run --seed=7"},
		{"seed with a space", []string{"regify-verify", "run", "--seed", "3", "--scenario", "baseline"}, "regify-verify run --seed=7 --scenario baseline"},
		{"seed with =", []string{"regify-verify", "run", "-seed=3", "--users=5"}, "regify-verify run --seed=7 --users=5"},
		{"fault spec kept", []string{"regify-verify", "run", "--fault", "provider-hang:provider=p1,for=6s"}, "regify-verify run --seed=7 --fault provider-hang:provider=p1,for=6s"},
		{"quoted", []string{"regify-verify", "run", "--out", "my dir/it's"}, `regify-verify run --seed=7 --out 'my dir/it'\''s'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, commandLine(tc.argv, 7, nil))
		})
	}
}

// TestIncompleteRunExitsTwo: a run whose scenario was not judged (a fault
// that did not take effect) exits 2 and names the fault.
func TestIncompleteRunExitsTwo(t *testing.T) {
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, log: slog.New(slog.DiscardHandler)}
	rep := &reports.Report{RunID: "r1", Scenarios: []reports.Scenario{{
		Name: "provider-hang", Invariants: []reports.Invariant{{Name: "failover", Verdict: reports.Pass}},
		NotJudged: []string{"fault provider-hang on p1 did not take effect: none of the 5 clients on p1 was disrupted or moved"},
	}}}
	rep.Finish()
	err := finishReport(e, rep, t.TempDir())
	assert.Equal(t, exitInvalid, exitCode(&errOut, "run", err))
	assert.Contains(t, errOut.String(), "incomplete: provider-hang: fault provider-hang on p1 did not take effect")
}

// TestRunFlagsRefused: bad --parallel, --parallel-db, --agents and
// --engine values exit 2 with a message that names the fix.
func TestRunFlagsRefused(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--parallel", "0"}, "--parallel 0: choose 1 to 255"},
		{[]string{"--parallel", "2", "--parallel-db", "3"}, "--parallel-db 3: choose 1 to --parallel (2)"},
		{[]string{"--agents", "-1"}, "--agents -1: want 0 (no agents) or more"},
		{[]string{"--agents", "2", "--engine", "kubernetes", "--scenario", "provider-crash"}, "--engine kubernetes: agents serve one scenario and end"},
		{[]string{"--agents", "2", "--engine", "kubernetes"}, "--engine kubernetes needs --agent-image"},
		{[]string{"--agents", "2", "--engine", "kubernetes", "--agent-image", "img", "--kubeconfig", "/nonexistent/kubeconfig"}, "--engine kubernetes: read the kubeconfig"},
		{[]string{"--agents", "2", "--engine", "kubernetes", "--agent-image", "img", "--agents-advertise", "192.0.2.1"}, "--agents-listen 127.0.0.1:7000 is a loopback address, which pods cannot reach at 192.0.2.1; listen on 192.0.2.1:7000"},
		{[]string{"--agents", "2", "--engine", "moon"}, `--engine "moon": want local, docker, swarm, remote or kubernetes`},
		{[]string{"--agents", "2", "--engine", "swarm", "--scenario", "provider-crash,neg-round-robin"}, "--engine swarm: agents serve one scenario and end"},
		{[]string{"--agents", "2", "--engine", "remote", "--scenario", "provider-crash"}, "--engine remote: agents serve one scenario and end"},
		{[]string{"--nodes", "moon"}, `--nodes "moon": want inprocess or containers`},
		{[]string{"--nodes", "containers"}, "--nodes containers: the load must come from containers beside the lab's"},
		{[]string{"--nodes", "containers", "--agents", "2", "--engine", "local"}, "add --agents N --engine docker (plain containers) or --engine swarm"},
		{[]string{"--agents", "2", "--engine", "docker"}, "--engine docker runs the agents as containers on the lab's network: it needs --nodes containers"},
		{[]string{"--agents", "2", "--engine", "local", "--swarm-init"}, "--swarm-init makes this engine a swarm for --agents N --engine swarm"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"run", "--scenario", "baseline", "--out", t.TempDir()}, tc.args...)
			assert.Equal(t, exitInvalid, realMain(args, &out, &errOut))
			assert.Contains(t, errOut.String(), tc.want)
		})
	}
}
