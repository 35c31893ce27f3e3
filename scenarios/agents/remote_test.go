package agents

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/history"
)

// TestRemoteAgents: agents that connect to the coordinator over HTTP (as
// pods of an Indexed Job do) in any order get their own share, stream
// their requests up the same exchange and are judged merged, as local
// ones are; a second agent with a taken index is sent away.
func TestRemoteAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lab, cfg := labLoad(ctx, t, 6, 8, 30, 5)

	remote, err := NewRemote("127.0.0.1:0", 20*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = remote.Close() })
	// Agents connect in reverse order, as pods start in any order.
	served := make(chan error, 3)
	for _, i := range []int{3, 2, 1} {
		go func() { served <- connectAgent(ctx, remote.URL(), i) }()
	}
	rec := history.NewRecorder(history.Meta{RunID: "t"})
	reps, err := Driver{Agents: 3, Engine: remote}.Drive(ctx, cfg, lab.CAPEM(), rec)
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, <-served)
	}
	require.Len(t, reps, 3)
	users := map[string]bool{}
	for _, r := range rec.History().Requests {
		users[r.User] = true
	}
	assert.Len(t, users, 6, "every user's requests came up")
	for _, r := range reps {
		assert.Equal(t, "remote", r.Engine)
		assert.Empty(t, r.Died)
		assert.Positive(t, r.Requests)
		assert.Less(t, r.ClockBound, 50*time.Millisecond)
	}

	// An index already connected and waiting is not taken twice.
	go func() {
		in, out, err := Dial(ctx, remote.URL(), 7)
		if err == nil {
			defer in.Close()
			defer out.Close()
			<-ctx.Done()
		}
	}()
	require.Eventually(t, func() bool { return len(remote.slot(7)) == 1 }, 5*time.Second, 10*time.Millisecond, "the first agent 7 waits in its slot")
	in, out, err := Dial(ctx, remote.URL(), 7)
	require.NoError(t, err, "the exchange is accepted, then ended")
	buf := make([]byte, 1)
	_, rerr := in.Read(buf)
	assert.Error(t, rerr, "the second agent 7 is sent away: its input ends at once")
	out.Close()
	in.Close()
}

// TestRemoteExchangeEnds: closing an agent's input over HTTP tells the
// agent in band, so it ends its half and the exchange ends cleanly (the
// response could not end first: its handler waits for the agent's half).
func TestRemoteExchangeEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	remote, err := NewRemote("127.0.0.1:0", 10*time.Second)
	require.NoError(t, err)
	// Without the in-band end the exchange would stay open until the
	// test's context ends, and the agent would fail with it.
	remote.EndWait = time.Hour
	t.Cleanup(func() { _ = remote.Close() })
	served := make(chan error, 1)
	go func() { served <- connectAgent(ctx, remote.URL(), 1) }()
	conn, err := remote.Start(ctx, Task{Agent: "a1"})
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, conn.Out()) }() // as the driver reads
	task := Task{Agent: "a1", Users: 1, AllUsers: 1, SourceIPs: []string{"127.0.10.1"}, CAPEM: testCAPEM(t),
		Domains: []history.Domain{{Name: "abc.test", PublicIP: "127.0.0.1", HTTPS: "https://abc.test:1/"}}}
	b, err := json.Marshal(task)
	require.NoError(t, err)
	_, err = conn.In().Write(append(b, '\n'))
	require.NoError(t, err)
	require.NoError(t, conn.In().Close())
	require.NoError(t, <-served, "the agent ends on its input's end")
	require.NoError(t, conn.Wait(), "the exchange ends with the agent's half")
}

// connectAgent is what a remote agent does: it connects to the
// coordinator at base as agent i and serves until its input ends.
func connectAgent(ctx context.Context, base string, i int) error {
	in, out, err := Dial(ctx, base, i)
	if err != nil {
		return err
	}
	defer in.Close()
	err = Serve(ctx, in, out, nil)
	out.Close()
	return err
}
