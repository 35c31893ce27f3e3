package deploy

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

func checkOnce(t *testing.T, d *Deployment, opts Options) *reports.Scenario {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if opts.Seed == 0 {
		opts.Seed = 3
	}
	rep, err := Check(ctx, d, opts)
	require.NoError(t, err)
	require.NotEmpty(t, rep.Scenarios)
	sc := &rep.Scenarios[0]
	logScenario(t, sc)
	require.Empty(t, sc.Error)
	return sc
}

// The deployment's session paths reach the load: a provider that serves
// login and inbox elsewhere works with them and not without.
func TestCheckUsesSessionPaths(t *testing.T) {
	tests := []struct {
		name      string
		session   string
		wantPaths load.Paths
		works     bool
	}{
		{name: "configured paths", session: "session: {login_path: /auth/signin, probe_path: /home}\n",
			wantPaths: load.Paths{Login: "/auth/signin", Inbox: "/home"}, works: true},
		{name: "broken: the defaults miss the provider", session: "",
			wantPaths: load.Paths{Login: "/login", Inbox: "/inbox"}, works: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGoRig(t, goRigOptions{paths: map[string]string{"/auth/signin": "/login", "/home": "/inbox"}})
			d := g.deployment(t, tt.session)
			assert.Equal(t, tt.wantPaths, loadConfig(d, Options{Users: 1}).Paths)
			assert.Contains(t, Plan(d)[len(d.Domains)*2].What, "log in with POST "+tt.wantPaths.Login)

			sc := checkOnce(t, d, Options{})
			cont := findVerdict(t, sc, check.NameSessionContinuity)
			if tt.works {
				assert.Positive(t, g.count("POST /auth/signin"), "logins at the configured path")
				assert.Positive(t, g.count("GET /home"), "session probes at the configured path")
				assert.Zero(t, g.count("POST /login"), "no login at the default")
				assert.Equal(t, reports.Pass, cont.Verdict, cont.Summary)
			} else {
				assert.Positive(t, g.count("POST /login"))
				assert.Zero(t, g.count("GET /home"))
				reach := findVerdict(t, sc, NameReachability)
				assert.Equal(t, reports.Fail, reach.Verdict)
				assert.Contains(t, allText(reach), "none of")
				assert.Contains(t, allText(reach), "/login answered 404")
			}
		})
	}
}
