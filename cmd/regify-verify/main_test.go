package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
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
