package load

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
)

// byUser groups recorded requests by user, in the order they were added.
func byUser(reqs []history.Request) map[string][]history.Request {
	m := map[string][]history.Request{}
	for _, r := range reqs {
		m[r.User] = append(m[r.User], r)
	}
	return m
}

func runLab(t *testing.T, lab *testLab, cfg Config) []history.Request {
	t.Helper()
	rec := history.NewRecorder(history.Meta{Seed: cfg.Seed})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, Run(ctx, cfg, rec))
	return rec.History().Requests
}

func TestRunUsersHaveOwnSourceIPAndNeverSendStaleTokens(t *testing.T) {
	fake := newFakeProvider()
	lab := newTestLab(t, fake, labOptions{})
	cfg := lab.config(24)
	cfg.MaxRequests = 480 // unpaced: all 24 workers busy at once
	cfg.Counters = new(Counters)

	reqs := runLab(t, lab, cfg)

	require.Len(t, reqs, 480)
	stale, unknown, marker := fake.counts()
	assert.Zero(t, stale, "outdated tokens presented")
	assert.Zero(t, unknown, "never-issued tokens presented")
	assert.Zero(t, marker, "%s leaked to the provider", UserHeader)
	assert.Equal(t, Stats{Requests: 480}, cfg.Counters.Snapshot())

	users := byUser(reqs)
	require.Len(t, users, 24)
	ops := map[history.Op]int{}
	for i := range 24 {
		name := userName(i)
		want := cfg.SourceIPs[i].String()
		dom := lab.domains[i%2].Name
		// The provider saw this user from its own address only.
		assert.Equal(t, map[string]bool{want: true}, fake.remote[name], "provider saw %s from", name)

		var last string // newest token received
		var prevEnd time.Time
		for k, r := range users[name] {
			ops[r.Op]++
			assert.Equal(t, want, r.SourceIP, "%s request %d", name, k)
			assert.Equal(t, dom, r.Tenant)
			assert.Equal(t, dom, r.ServedTenant)
			assert.True(t, r.OK(), "%s request %d: %d %s", name, k, r.Status, r.Err)
			assert.Equal(t, "fake", r.Provider)
			require.NotNil(t, r.TLS)
			assert.True(t, r.TLS.Verified)
			assert.Equal(t, dom, r.TLS.ServerName)
			require.NotNil(t, r.Seen)
			assert.Equal(t, want, hostOf(r.Seen.RemoteAddr))
			// One request at a time per user.
			assert.False(t, r.Start.Before(prevEnd), "%s request %d overlaps the previous one", name, k)
			prevEnd = r.Start.Add(r.Latency)
			// Rotation followed: every request presents the newest token.
			if r.Op != history.OpLogin {
				assert.Equal(t, last, r.TokenSent, "%s request %d (%s)", name, k, r.Op)
				assert.Equal(t, name, r.SessionUser)
			}
			if r.Op == history.OpLogout {
				last = ""
			} else if r.TokenReceived != "" {
				last = r.TokenReceived
			}
		}
		assert.Equal(t, history.OpLogin, users[name][0].Op, "%s starts with a login", name)
	}
	for _, op := range []history.Op{history.OpLogin, history.OpInbox, history.OpSend, history.OpRead, history.OpLogout} {
		assert.Positive(t, ops[op], "no %s in the mix: %v", op, ops)
	}
}

func hostOf(addr string) string {
	h, _, _ := splitHostPort(addr)
	return h
}

func TestRunLogsInAgainAfter401AndRetriesSendsWithTheSameID(t *testing.T) {
	fake := newFakeProvider()
	fake.revokeEvery = 13
	fake.failFirstSend = true
	lab := newTestLab(t, fake, labOptions{})
	cfg := lab.config(6)
	cfg.MaxRequests = 300

	reqs := runLab(t, lab, cfg)

	require.Len(t, reqs, 300)
	stale, unknown, _ := fake.counts()
	assert.Zero(t, stale)
	assert.Zero(t, unknown)
	var n401, n503 int
	for name, rs := range byUser(reqs) {
		for k, r := range rs[:len(rs)-1] {
			next := rs[k+1]
			switch r.Status {
			case http.StatusUnauthorized:
				n401++
				assert.Equal(t, history.OpLogin, next.Op, "%s: after a 401 comes a login", name)
				if r.Op == history.OpSend && k+2 < len(rs) {
					assert.Equal(t, r.MessageID, rs[k+2].MessageID, "%s: the send is retried after the login", name)
				}
			case http.StatusServiceUnavailable:
				n503++
				require.Equal(t, history.OpSend, r.Op)
				if next.Op == history.OpSend {
					assert.Equal(t, r.MessageID, next.MessageID, "%s: a retry reuses the id", name)
				}
			}
		}
	}
	assert.Positive(t, n401)
	assert.Positive(t, n503)
}

func TestRunStopsByItself(t *testing.T) {
	tests := []struct {
		name    string
		hang    bool
		max     uint64
		rate    int
		dur     time.Duration
		cancel  bool
		wantErr bool
		atMost  time.Duration
	}{
		{name: "max requests", max: 7, dur: 30 * time.Second, atMost: 10 * time.Second},
		{name: "duration", rate: 40, dur: 300 * time.Millisecond, atMost: 5 * time.Second},
		{name: "ctx cancelled while requests hang", hang: true, dur: time.Minute, cancel: true, wantErr: true, atMost: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeProvider()
			fake.hangInbox = tt.hang
			lab := newTestLab(t, fake, labOptions{})
			cfg := lab.config(4)
			cfg.Mix = Mix{Inbox: 1}
			cfg.MaxRequests, cfg.Rate, cfg.Duration = tt.max, tt.rate, tt.dur
			cfg.Timeout = time.Minute // only the run's own bounds may stop it
			cfg.Counters = new(Counters)
			rec := history.NewRecorder(history.Meta{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- Run(ctx, cfg, rec) }()
			if tt.cancel {
				// Wait until every user hangs in /inbox, then cancel.
				require.Eventually(t, func() bool { return cfg.Counters.Snapshot().InFlight == 4 },
					10*time.Second, 5*time.Millisecond)
				cancel()
			}
			select {
			case err := <-done:
				if tt.wantErr {
					require.ErrorIs(t, err, context.Canceled)
				} else {
					require.NoError(t, err)
				}
			case <-time.After(tt.atMost):
				t.Fatalf("Run still going after %s", tt.atMost)
			}
			elapsed := time.Since(start)
			n := rec.Len()
			switch {
			case tt.max > 0:
				assert.Equal(t, int(tt.max), n)
			case tt.rate > 0:
				// 40/s for 0.3 s: about 12 hits, never more than the pace allows.
				assert.Positive(t, n)
				assert.LessOrEqual(t, n, 14)
				assert.Less(t, elapsed, tt.dur+2*time.Second)
			case tt.cancel:
				s := cfg.Counters.Snapshot()
				assert.Zero(t, s.InFlight)
				assert.Equal(t, int64(n), s.Requests)
			}
		})
	}
}

func TestRunPlanIsReproducibleFromTheSeed(t *testing.T) {
	type key struct {
		op history.Op
		id string
	}
	sequences := func(seed int64) map[string][]key {
		fake := newFakeProvider()
		lab := newTestLab(t, fake, labOptions{})
		cfg := lab.config(8)
		cfg.Seed = seed
		cfg.MaxRequests = 160
		m := map[string][]key{}
		for _, r := range runLab(t, lab, cfg) {
			m[r.User] = append(m[r.User], key{r.Op, r.MessageID})
		}
		return m
	}
	a, b, other := sequences(7), sequences(7), sequences(8)
	require.Len(t, a, 8)
	differs := false
	for user := range a {
		// Workers interleave users differently, so users get different
		// numbers of turns; each user's own sequence is the same.
		n := min(len(a[user]), len(b[user]))
		assert.Equal(t, a[user][:n], b[user][:n], user)
		m := min(len(a[user]), len(other[user]))
		if !slices.Equal(a[user][:m], other[user][:m]) {
			differs = true
		}
	}
	assert.True(t, differs, "another seed gives another plan")
}

func TestRunUsesConfiguredPaths(t *testing.T) {
	// The provider serves login at /auth/signin and the inbox at /home;
	// /login and /inbox answer 404 there.
	renamedPaths := map[string]string{"/auth/signin": "/login", "/home": "/inbox"}
	tests := []struct {
		name      string
		paths     Paths
		wantLogin string
		wantInbox string
		loginOK   bool
	}{
		{name: "configured paths log in", paths: Paths{Login: "/auth/signin", Inbox: "/home"},
			wantLogin: "/auth/signin", wantInbox: "/home", loginOK: true},
		{name: "broken: the contract's defaults get 404", paths: Paths{},
			wantLogin: "/login", wantInbox: "/inbox", loginOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := newTestLab(t, newFakeProvider(), labOptions{paths: renamedPaths})
			cfg := lab.config(3)
			cfg.Mix = Mix{Inbox: 1}
			cfg.Paths = tt.paths
			cfg.MaxRequests = 30

			reqs := runLab(t, lab, cfg)

			require.Len(t, reqs, 30)
			logins, inboxes := 0, 0
			for _, r := range reqs {
				path := r.URL[strings.Index(r.URL[len("https://"):], "/")+len("https://"):]
				switch r.Op {
				case history.OpLogin:
					logins++
					assert.Equal(t, tt.wantLogin, path)
					assert.Equal(t, tt.loginOK, r.Status == http.StatusOK, "login answered %d", r.Status)
				case history.OpInbox:
					inboxes++
					assert.Equal(t, tt.wantInbox, path)
					assert.Equal(t, http.StatusOK, r.Status)
				}
			}
			assert.Positive(t, logins)
			if tt.loginOK {
				assert.Positive(t, inboxes, "logged-in users list their inbox")
			} else {
				assert.Zero(t, inboxes, "no user got a session")
			}
		})
	}
}

// TestRunSchedulesArrivalsAcrossUsers: a user stuck in slow requests does
// not hold up the others' arrivals (the offered load stays the schedule's);
// its own queued requests carry their scheduled time, so the wait behind
// the slow one counts as latency (coordinated omission corrected).
func TestRunSchedulesArrivalsAcrossUsers(t *testing.T) {
	fake := newFakeProvider()
	fake.stallIP, fake.stallFor = "127.0.10.1", 400*time.Millisecond
	lab := newTestLab(t, fake, labOptions{})
	cfg := lab.config(4)
	cfg.Mix = Mix{Inbox: 1}
	cfg.Rate, cfg.Duration, cfg.Timeout = 40, 2*time.Second, 5*time.Second
	var arr Arrivals
	cfg.Arrivals = &arr
	rec := history.NewRecorder(history.Meta{})
	require.NoError(t, Run(context.Background(), cfg, rec))
	h := rec.History()

	assert.InDelta(t, 80, arr.Offered, 8, "the schedule offered 40/s for 2 s whoever was busy")
	others, slowWaits := 0, 0
	var worst time.Duration
	for i := range h.Requests {
		r := &h.Requests[i]
		require.False(t, r.Scheduled.IsZero(), "every request of the load carries its schedule")
		assert.False(t, r.Start.Before(r.Scheduled), "sent before it was due: %+v", r)
		if r.SourceIP == "127.0.10.1" {
			if r.Op == history.OpInbox && r.Start.Sub(r.Scheduled) > 100*time.Millisecond {
				slowWaits++
			}
			worst = max(worst, r.Waited())
			continue
		}
		others++
	}
	// Without the correction the three other users would have taken the
	// whole rate: about 60 of the 80 arrivals are theirs, no more.
	assert.InDelta(t, 60, others, 10, "the others kept their share of the schedule")
	assert.Positive(t, slowWaits, "the slow user's later arrivals waited for it")
	assert.Greater(t, worst, 600*time.Millisecond, "latency counts from the schedule: the wait behind a 400 ms request adds to its own")
	assert.Positive(t, arr.Dropped, "arrivals still queued behind the slow user at the end are dropped, so the run ends on time")
}
