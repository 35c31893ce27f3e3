package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExitCodes covers the contract of the command line: 0 for success, 2
// for anything that could not be judged, with one message naming the fix.
func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		out  string // expected in stdout or stderr
	}{
		{"no command", nil, exitInvalid, "Usage: regify-verify"},
		{"help", []string{"--help"}, exitOK, "Exit codes"},
		{"unknown command", []string{"frobnicate"}, exitInvalid, `unknown command "frobnicate"`},
		{"list", []string{"list"}, exitOK, "neg-round-robin"},
		{"run help", []string{"run", "--help"}, exitOK, "--scenario"},
		{"run bad flag", []string{"run", "--bogus"}, exitInvalid, "flag provided but not defined: -bogus"},
		{"run unknown scenario", []string{"run", "--scenario", "nope"}, exitInvalid, `unknown scenario "nope"`},
		{"run too many users", []string{"run", "--users", "999"}, exitInvalid, "choose 1 to 250"},
		{"run bad backend", []string{"run", "--db-backend", "k8s"}, exitInvalid, "want docker or process"},
		{"report without --from", []string{"report"}, exitInvalid, "--from DIR is required"},
		{"report from nowhere", []string{"report", "--from", "/nonexistent-rv"}, exitInvalid, "report.json"},
		{"lb without config", []string{"lb"}, exitInvalid, "config"},
		{"lab without sub-command", []string{"lab"}, exitInvalid, "want 'lab up' or 'lab down [--all]'"},
		{"lab unknown sub-command", []string{"lab", "sideways"}, exitInvalid, `unknown sub-command "sideways"`},
		{"images without build", []string{"images"}, exitInvalid, "want 'images build"},
		{"help for an unknown command", []string{"help", "frobnicate"}, exitInvalid, `unknown command "frobnicate"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := realMain(tc.args, &out, &errOut)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out.String(), errOut.String())
			assert.Contains(t, out.String()+errOut.String(), tc.out)
		})
	}
}

// TestHelp: --help, -h and help on every command, sub-command and command
// group print the usage on stdout (nothing on stderr) and exit 0.
func TestHelp(t *testing.T) {
	cases := []struct {
		cmd  []string // the command, without the help argument
		want string   // the start of its usage line
	}{
		{nil, "Usage: regify-verify <command>"},
		{[]string{"run"}, "Usage: regify-verify run ["},
		{[]string{"list"}, "Usage: regify-verify list"},
		{[]string{"check"}, "Usage: regify-verify check --target"},
		{[]string{"report"}, "Usage: regify-verify report --from"},
		{[]string{"shrink"}, "Usage: regify-verify shrink --from"},
		{[]string{"lab"}, "Usage: regify-verify lab <up|down>"},
		{[]string{"lab", "up"}, "Usage: regify-verify lab up ["},
		{[]string{"lab", "down"}, "Usage: regify-verify lab down ["},
		{[]string{"images"}, "Usage: regify-verify images build [flags]"},
		{[]string{"images", "build"}, "Usage: regify-verify images build [--mariadb-image"},
		{[]string{"lb"}, "Usage: regify-verify lb --config"},
		{[]string{"provider"}, "Usage: regify-verify provider --id"},
		{[]string{"clearing"}, "Usage: regify-verify clearing --listen"},
		{[]string{"agent"}, "Usage: regify-verify agent"},
		{[]string{"agents"}, "Usage: regify-verify agents manifest"},
		{[]string{"agents", "manifest"}, "Usage: regify-verify agents manifest --agents"},
	}
	// Every command of the table above must be covered.
	covered := map[string]bool{}
	for _, tc := range cases {
		if len(tc.cmd) > 0 {
			covered[tc.cmd[0]] = true
		}
	}
	for name := range commands() {
		assert.True(t, covered[name], "command %q has no --help case", name)
	}
	for _, tc := range cases {
		variants := [][]string{
			append(append([]string{}, tc.cmd...), "--help"),
			append(append([]string{}, tc.cmd...), "-h"),
			append(append([]string{}, tc.cmd...), "help"),
			append([]string{"help"}, tc.cmd...),
		}
		for _, args := range variants {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var out, errOut bytes.Buffer
				code := realMain(args, &out, &errOut)
				assert.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out.String(), errOut.String())
				assert.Contains(t, out.String(), tc.want)
				assert.Empty(t, errOut.String())
			})
		}
	}
}

// TestCheckMalformedDeployment: a malformed deployment file exits 2 with
// one message naming the file, the line and the key, and what to fix.
func TestCheckMalformedDeployment(t *testing.T) {
	const domain = "domains:\n  - name: abc.test\n    https: https://abc.test/\n"
	cases := []struct {
		name, yaml string
		want       []string // all in the message
	}{
		{"unknown key in a domain", "name: x\n" + domain + "    colour: red\nclients:\n  source_ips: 127.0.10.1\n",
			[]string{"deployment.yaml:5: domains[0].colour: unknown key", "known keys here: name, https, http, address"}},
		{"unknown top-level key", "name: x\n" + domain + "clients:\n  source_ips: 127.0.10.1\nbalancer: haproxy\n",
			[]string{"deployment.yaml:7: balancer: unknown key"}},
		{"IP range backwards", "name: x\n" + domain + "clients:\n  source_ips: 127.0.10.9-127.0.10.1\n",
			[]string{"deployment.yaml:6: clients.source_ips:", "runs backwards"}},
		{"IP range not two addresses", "name: x\n" + domain + "clients:\n  source_ips: 127.0.10.1-bogus\n",
			[]string{"deployment.yaml:6: clients.source_ips:", "such as 127.0.10.1-127.0.10.32"}},
		{"domains missing", "name: x\nclients:\n  source_ips: 127.0.10.1\n",
			[]string{"deployment.yaml:1: domains: required key missing", "list the public names"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "deployment.yaml")
			require.NoError(t, os.WriteFile(file, []byte(tc.yaml), 0o600))
			var out, errOut bytes.Buffer
			code := realMain([]string{"check", "--target", file, "--dry-run"}, &out, &errOut)
			assert.Equal(t, exitInvalid, code, "stdout: %s\nstderr: %s", &out, &errOut)
			assert.Empty(t, out.String(), "nothing is planned for a malformed file")
			assert.Equal(t, 1, strings.Count(errOut.String(), "\n"), "one message: %s", &errOut)
			for _, w := range tc.want {
				assert.Contains(t, errOut.String(), w)
			}
		})
	}
}

// TestTrySessionExitCodes: a malformed file exits 2 naming the key; a flow
// that cannot log in (nothing listens) exits 1 with the steps printed.
func TestTrySessionExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: x\ndomains:\n  - name: abc.test\n    https: https://abc.test/\nclients:\n  source_ips: 127.0.10.1\nsession:\n  login: []\n"), 0o600))
	var out, errOut bytes.Buffer
	assert.Equal(t, exitInvalid, realMain([]string{"check", "--try-session", bad}, &out, &errOut))
	assert.Contains(t, errOut.String(), "bad.yaml:7: session.cookie: required key missing")

	l, err := net.Listen("tcp", "127.0.5.9:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte(fmt.Sprintf("name: x\ndomains:\n  - name: abc.test\n    https: https://abc.test:%d/\n    address: 127.0.5.9\nclients:\n  source_ips: 127.0.10.1\nload: {timeout: 1s}\n", port)), 0o600))
	out.Reset()
	errOut.Reset()
	assert.Equal(t, exitFailed, realMain([]string{"check", "--try-session", good}, &out, &errOut), "%s", &errOut)
	assert.Contains(t, out.String(), "1. login  POST https://abc.test:")
	assert.Contains(t, out.String(), "→ no answer:")
	assert.Contains(t, errOut.String(), "the session flow does not work end to end")
}

func TestShellWordsReadsCommandLine(t *testing.T) {
	line := commandLine([]string{"regify-verify", "run", "--nemesis", "lab=neg-no-health-checks,intensity=10", "--users", "8", "--out", "my dir"}, 7, nil)
	words := shellWords(line)
	assert.Equal(t, []string{"regify-verify", "run", "--seed=7", "--nemesis", "lab=neg-no-health-checks,intensity=10", "--users", "8", "--out", "my dir"}, words)
	set, err := rerunSettings(line)
	require.NoError(t, err)
	assert.Equal(t, rerun{users: 8, lab: "neg-no-health-checks"}, set)
}
