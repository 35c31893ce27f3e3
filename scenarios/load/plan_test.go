package load

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
)

// walk runs a plan for n steps against a provider that answers every
// request with answer(step).
func walk(p *plan, n int, answer func(step) int) []step {
	out := make([]step, 0, n)
	for range n {
		s := p.next()
		out = append(out, s)
		p.done(s, status(answer(s)))
	}
	return out
}

// status is an answer with only a status (0: no answer arrived).
func status(code int) *answer {
	if code == 0 {
		return &answer{err: errors.New("no answer")}
	}
	return &answer{status: code, header: http.Header{}}
}

func ok(s step) int {
	if s.op == history.OpSend {
		return http.StatusCreated
	}
	return http.StatusOK
}

func TestPlanIsDeterministic(t *testing.T) {
	a := walk(newPlan(1, 3, 10, "pw", DefaultMix), 500, ok)
	b := walk(newPlan(1, 3, 10, "pw", DefaultMix), 500, ok)
	assert.Equal(t, a, b, "same seed and user")
	assert.NotEqual(t, a, walk(newPlan(2, 3, 10, "pw", DefaultMix), 500, ok), "another seed")
	assert.NotEqual(t, a, walk(newPlan(1, 4, 10, "pw", DefaultMix), 500, ok), "another user")

	counts := map[history.Op]int{}
	for _, s := range a {
		counts[s.op]++
	}
	// Roughly the mix: half inbox, a third sends, reads, a few logouts each
	// followed by a login.
	assert.Equal(t, counts[history.OpLogout]+1, counts[history.OpLogin])
	assert.InDelta(t, 0.5, float64(counts[history.OpInbox])/float64(len(a)), 0.1)
	assert.InDelta(t, 0.3, float64(counts[history.OpSend])/float64(len(a)), 0.1)
}

func TestPlanReactsToAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer func(step) int // for the first send; everything else succeeds
		want   []history.Op   // the steps after the first send
		sameID bool           // the send after it reuses the id
	}{
		{name: "acknowledged", answer: ok, sameID: false},
		{name: "503 retried", answer: func(step) int { return http.StatusServiceUnavailable }, sameID: true},
		{name: "no response retried", answer: func(step) int { return 0 }, sameID: true},
		{name: "401 logs in, then retries", answer: func(step) int { return http.StatusUnauthorized },
			want: []history.Op{history.OpLogin, history.OpSend}, sameID: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlan(5, 0, 2, "pw", Mix{Send: 1})
			login := p.next()
			require.Equal(t, history.OpLogin, login.op)
			assert.Equal(t, "u001", login.form.Get("user"))
			assert.Equal(t, "pw", login.form.Get("password"))
			p.done(login, status(http.StatusOK))
			first := p.next()
			require.Equal(t, history.OpSend, first.op)
			assert.Equal(t, "5-u001-1", first.msgID)
			assert.Equal(t, first.msgID, first.form.Get("id"))
			p.done(first, status(tt.answer(first)))
			var after []step
			if tt.want != nil {
				after = walk(p, len(tt.want), ok)
				for i, op := range tt.want {
					assert.Equal(t, op, after[i].op)
				}
			} else {
				after = walk(p, 1, ok)
			}
			last := after[len(after)-1]
			require.Equal(t, history.OpSend, last.op)
			if tt.sameID {
				assert.Equal(t, first.msgID, last.msgID)
				assert.Equal(t, first.form, last.form, "a retry sends the same message")
			} else {
				assert.Equal(t, "5-u001-2", last.msgID)
			}
		})
	}
}

func TestPlanReadsOnlyAcknowledgedMessages(t *testing.T) {
	p := newPlan(9, 1, 4, "pw", Mix{Send: 1, Read: 1})
	acked := map[string]bool{}
	for _, s := range walk(p, 400, func(s step) int {
		if s.op == history.OpSend && len(s.msgID)%2 == 0 { // some sends fail
			return http.StatusBadGateway
		}
		if s.op == history.OpSend {
			acked[s.msgID] = true
		}
		return ok(s)
	}) {
		if s.op == history.OpRead {
			assert.True(t, acked[s.msgID], "read of unacknowledged %s", s.msgID)
			assert.Equal(t, "/messages/"+s.msgID, s.path)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	lab := newTestLab(t, newFakeProvider(), labOptions{})
	good := lab.config(2)
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{name: "no users", change: func(c *Config) { c.Users = 0 }, want: "users must be positive"},
		{name: "too few source IPs", change: func(c *Config) { c.SourceIPs = []netip.Addr{c.SourceIPs[0]} }, want: "1 source IPs for 2 users"},
		{name: "no domains", change: func(c *Config) { c.Domains = nil }, want: "no domains"},
		{name: "http base", change: func(c *Config) { c.Domains = []history.Domain{{Name: "x", HTTPS: "http://x/"}} }, want: "want https://"},
		{name: "no duration", change: func(c *Config) { c.Duration = 0 }, want: "duration must be positive"},
		{name: "no CA", change: func(c *Config) { c.CA = nil }, want: "no CA"},
		{name: "negative weight", change: func(c *Config) { c.Mix.Read = -1 }, want: "negative weight"},
		{name: "relative login path", change: func(c *Config) { c.Paths.Login = "login" }, want: `login path "login"`},
		{name: "relative inbox path", change: func(c *Config) { c.Paths.Inbox = "home" }, want: `inbox path "home"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			err := Run(context.Background(), cfg, history.NewRecorder(history.Meta{}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	good.MaxRequests, good.Duration = 2, 10*time.Second
	require.NoError(t, Run(context.Background(), good, history.NewRecorder(history.Meta{})))
}
