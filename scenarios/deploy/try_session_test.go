package deploy

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrySession runs check --try-session's flow against the PHP
// application: each step is printed with what came back, and the answer
// says whether the flow works end to end.
func TestTrySession(t *testing.T) {
	t.Setenv(phpPasswordEnv, phpPassword)
	tests := []struct {
		name     string
		app      phpAppOptions
		password string // "" keeps the right one
		header   string
		ok       bool
		want     []string
	}{
		{name: "works", header: "X-Backend", ok: true, want: []string{
			"1. session.login[0]  GET https://app.test:", "extracted token=",
			"2. session.login[1]  POST https://app.test:", "form passwd=***", "→ 302", "Location /mail/inbox", "set cookie APPSESSION=",
			"3. session.probe  GET", "→ 200", "backend node",
			"rotation: every probe set a new APPSESSION", "backend: header X-Backend named node",
			"session.logout", "OK: the flow works end to end"}},
		{name: "wrong password", header: "X-Backend", password: "nope", want: []string{
			"2. session.login[1]", "form passwd=***", "! expectation not met: status 403, expected [302]",
			"FAILED: the login stopped at session.login[1]"}},
		{name: "no rotation", header: "X-Backend", app: phpAppOptions{NoRotate: true}, want: []string{
			"rotation: ! the probes did not each set a new APPSESSION, but session.rotates is true", "FAILED"}},
		{name: "backend nobody sends", header: "X-Nobody", ok: true, want: []string{
			"backend: ! no answer carried header X-Nobody: stickiness will be incomplete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newPHPRig(t, tt.app)
			r.startBalancer(t, "haproxy-good.cfg.tmpl")
			d := r.deployment(t, tt.header)
			if tt.password != "" {
				d.Session.Flow.Accounts[0].Password = tt.password
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			ok, err := TrySession(ctx, d, &out, Options{})
			t.Log("\n" + out.String())
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
			assert.NotContains(t, out.String(), phpPassword, "the password is never printed")
		})
	}
}
