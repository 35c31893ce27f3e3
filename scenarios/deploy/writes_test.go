package deploy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

func TestNoLostWritesJudgesReadBacks(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	send := func(id string, status int) history.Request {
		return history.Request{Op: history.OpSend, User: "u001", Tenant: "abc.test", MessageID: id, Status: status, Provider: "p1", Start: t0.Add(time.Second)}
	}
	read := func(id string, status int) history.Request {
		return history.Request{Op: history.OpRead, User: "u001", Tenant: "abc.test", MessageID: id, Status: status, Provider: "p2", Start: t0.Add(2 * time.Second)}
	}
	tests := []struct {
		name    string
		writes  bool
		reqs    []history.Request
		verdict reports.Verdict
		mention string
	}{
		{name: "read-only load skips", writes: false, reqs: []history.Request{{Op: history.OpInbox, Status: 200}},
			verdict: reports.Skip, mention: "session.writes"},
		{name: "every read back found", writes: true, reqs: []history.Request{send("m1", 201), read("m1", 200), send("m2", 200), read("m2", 200)},
			verdict: reports.Pass, mention: "2 messages acknowledged; all 2 reads"},
		{name: "broken: an acknowledged message is not there", writes: true, reqs: []history.Request{send("m1", 201), read("m1", 200), send("m2", 201), read("m2", 404)},
			verdict: reports.Fail, mention: "message m2 of u001 on abc.test: acknowledged 201 by p1 at +1.0s, read back +2.0s by p2: 404"},
		{name: "a read of an unacknowledged message is no witness", writes: true, reqs: []history.Request{send("m1", 503), read("m1", 404), send("m2", 201), read("m2", 200)},
			verdict: reports.Pass, mention: "1 messages acknowledged"},
		{name: "nothing acknowledged skips", writes: true, reqs: []history.Request{send("m1", 503)},
			verdict: reports.Skip, mention: "no acknowledged sends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &history.History{Meta: history.Meta{Started: t0}, Requests: tt.reqs}
			got := check.Run(h, []check.Invariant{NoLostWrites{Writes: tt.writes}})[0]
			assert.Equal(t, check.NameNoLostWrites, got.Name)
			assert.Equal(t, tt.verdict, got.Verdict, got.Summary)
			assert.Contains(t, got.Summary+"\n"+joinLines(got.Evidence), tt.mention)
		})
	}
}

func joinLines(s []string) string {
	out := ""
	for _, l := range s {
		out += l + "\n"
	}
	return out
}

// Without session.writes the load sends nothing and no-lost-writes is
// skipped with the reason; with it the load sends, and a balancer path
// that loses writes fails.
func TestCheckWritesOnlyWhenAllowed(t *testing.T) {
	tests := []struct {
		name       string
		session    string
		loseWrites bool
		sends      bool
		verdict    reports.Verdict
		mention    string
	}{
		{name: "default is read-only", session: "", sends: false, verdict: reports.Skip, mention: "session.writes is not true"},
		{name: "writes allowed", session: "session: {writes: true}\n", sends: true, verdict: reports.Pass, mention: "reads of them found"},
		{name: "broken: writes allowed and lost", session: "session: {writes: true}\n", loseWrites: true, sends: true, verdict: reports.Fail, mention: "404 not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGoRig(t, goRigOptions{loseWrites: tt.loseWrites})
			d := g.deployment(t, tt.session)
			d.Load.Duration = 2 * time.Second // time for sends and their reads
			lcfg := loadConfig(d, Options{Users: 1})
			if tt.sends {
				assert.Equal(t, load.DefaultMix, lcfg.Mix)
			} else {
				assert.Equal(t, load.ReadOnlyMix, lcfg.Mix)
				assert.Zero(t, lcfg.Mix.Send)
			}

			sc := checkOnce(t, d, Options{})
			if tt.sends {
				assert.Positive(t, g.count("POST /messages"), "messages sent")
			} else {
				assert.Zero(t, g.count("POST /messages"), "a read-only run must not send")
				assert.Positive(t, g.count("GET /inbox"), "the users were active")
			}
			inv := findVerdict(t, sc, check.NameNoLostWrites)
			require.Equal(t, tt.verdict, inv.Verdict, inv.Summary)
			assert.Contains(t, allText(inv), tt.mention)
			if tt.verdict != reports.Fail {
				assert.Empty(t, failing(sc), "nothing else fails")
			}
		})
	}
}
