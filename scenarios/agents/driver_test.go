package agents

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// pipeEngine runs each agent's Serve in this process, its wire over pipes;
// the agent named in dies stops writing after its first few requests, as
// an agent whose process is killed does.
type pipeEngine struct{ dies string }

func (pipeEngine) Name() string { return "pipe" }

func (e pipeEngine) Start(ctx context.Context, t Task) (Conn, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	actx, cancel := context.WithCancel(context.Background())
	c := &pipeConn{in: inW, out: outR, cancel: cancel, done: make(chan error, 1)}
	var w io.Writer = outW
	if t.Agent == e.dies {
		w = &dyingWriter{w: outW, left: clockRounds + 4, close: func() { outW.Close(); cancel() }}
	}
	go func() {
		err := Serve(actx, inR, w, nil)
		outW.Close()
		if t.Agent == e.dies {
			err = errors.New("killed")
		}
		c.done <- err
	}()
	return c, nil
}

type pipeConn struct {
	in     *io.PipeWriter
	out    *io.PipeReader
	cancel context.CancelFunc
	done   chan error
}

func (c *pipeConn) In() io.WriteCloser { return c.in }
func (c *pipeConn) Out() io.Reader     { return c.out }
func (c *pipeConn) Wait() error        { return <-c.done }
func (c *pipeConn) Kill() error        { c.cancel(); c.in.Close(); return nil }

// dyingWriter passes some lines on, then closes the wire for good: the
// dying agent answers the clock rounds at the start and sends 4 requests.
type dyingWriter struct {
	w     io.Writer
	left  int
	close func()
}

func (d *dyingWriter) Write(b []byte) (int, error) {
	if d.left <= 0 {
		return 0, io.ErrClosedPipe
	}
	d.left--
	n, err := d.w.Write(b)
	if d.left == 0 {
		d.close()
	}
	return n, err
}

// TestDriveMergesAgents: four agents share eight users of a real lab; the
// merged history holds every user's requests, each user on one agent with
// its own source address, and each agent is reported with its share and a
// clock bound. An agent that dies is reported so and its requests until
// then stay.
func TestDriveMergesAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lab, cfg := labLoad(ctx, t, 8, 7, 40, 3)
	cfg.Counters = new(load.Counters)

	for _, tc := range []struct {
		name string
		dies string
	}{{"all well", ""}, {"one dies", "a3"}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := history.NewRecorder(history.Meta{RunID: "t"})
			var arrivals load.Arrivals
			cfg := cfg
			cfg.Arrivals = &arrivals
			reps, err := Driver{Agents: 4, Engine: pipeEngine{dies: tc.dies}}.Drive(ctx, cfg, lab.CAPEM(), rec)
			h := rec.History()
			require.Len(t, reps, 4)
			agentOf := map[string]string{}
			for _, r := range reps {
				assert.Equal(t, "pipe", r.Engine)
				assert.Len(t, r.SourceIPs, 2)
				assert.Less(t, r.ClockBound, time.Second)
				for _, ip := range r.SourceIPs {
					agentOf[ip] = r.ID
				}
			}
			users := map[string]string{}
			for _, r := range h.Requests {
				require.NotEmpty(t, agentOf[r.SourceIP], "request from an address no agent had: %s", r.SourceIP)
				if prev, ok := users[r.User]; ok {
					assert.Equal(t, prev, r.SourceIP, "user %s on one address", r.User)
				}
				users[r.User] = r.SourceIP
			}
			if tc.dies == "" {
				require.NoError(t, err)
				assert.Len(t, users, 8, "every user's requests are in the merged history")
				var offered int64
				for _, r := range reps {
					assert.Empty(t, r.Died)
					assert.Positive(t, r.Requests)
					assert.Positive(t, r.Offered, "agent %s says what its schedule offered", r.ID)
					offered += r.Offered
				}
				assert.Equal(t, offered, arrivals.Offered, "the run's offered load is its agents' together")
				assert.InDelta(t, 40*2, arrivals.Offered, 40*2*0.25, "about rate × duration arrivals over all agents")
				return
			}
			require.ErrorContains(t, err, "agent a3 died")
			for _, r := range reps {
				if r.ID == "a3" {
					assert.NotEmpty(t, r.Died)
					assert.Equal(t, 4, r.Requests, "its requests until it died stay")
				} else {
					assert.Empty(t, r.Died)
				}
			}
		})
	}
}

// labLoad brings up an in-memory lab on lane with users clients and the
// load for it: rate requests a second over 2 s, with seed.
func labLoad(ctx context.Context, t *testing.T, users, lane, rate int, seed int64) (*harness.Lab, load.Config) {
	t.Helper()
	plan, err := harness.DefaultPlan(users, false)
	require.NoError(t, err)
	lab, err := harness.Up(ctx, harness.Options{Plan: plan, Lane: lane})
	require.NoError(t, err)
	t.Cleanup(func() { _ = lab.Close(context.Background()) })
	var domains []history.Domain
	for _, ep := range lab.Endpoints() {
		domains = append(domains, history.Domain{Name: ep.Name, PublicIP: ep.PublicIP.String(), HTTPS: ep.HTTPS})
	}
	return lab, load.Config{Users: users, SourceIPs: lab.Options().Plan.Clients, Domains: domains, Password: lab.Options().Password,
		CA: lab.Roots(), Rate: rate, Duration: 2 * time.Second, Seed: seed}
}
