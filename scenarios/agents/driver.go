package agents

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Engine starts agents somewhere: the lines of an agent's wire travel
// over the Conn it returns.
type Engine interface {
	// Name names the engine in reports ("local").
	Name() string
	// Start starts the agent that will run task and connects to it.
	Start(ctx context.Context, task Task) (Conn, error)
}

// Conn is the coordinator's end of one agent's wire.
type Conn interface {
	// In is what the coordinator writes: the task, then commands.
	In() io.WriteCloser
	// Out is what the agent writes.
	Out() io.Reader
	// Wait waits for the agent to end and says how it ended.
	Wait() error
	// Kill ends the agent at once.
	Kill() error
}

// Driver runs a scenario's load on N agents and merges what they send.
type Driver struct {
	Agents int
	Engine Engine
	// OwnAddress has every agent send from its own address (Task's): the
	// agents run as containers beside the lab's nodes.
	OwnAddress bool
	Log        *slog.Logger
}

// clockWait bounds a clock comparison.
const clockWait = 5 * time.Second

// Drive splits cfg over the agents, starts them, compares their clocks,
// tells them all to go at once and adds every request they send to sink
// with its times moved onto this clock. It returns when every agent is
// done (or dead), with what each did. An agent that dies is reported so;
// its requests until then stay in the history, and the error says so.
// caPEM is the load's trust roots as PEM (a pool cannot be written out).
func (d Driver) Drive(ctx context.Context, cfg load.Config, caPEM []byte, sink load.Sink) ([]reports.Agent, error) {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tasks, err := Split(cfg, caPEM, d.Agents)
	if err != nil {
		return nil, err
	}
	runs := make([]*agentRun, len(tasks))
	defer func() {
		for _, r := range runs {
			if r != nil {
				r.stop()
			}
		}
	}()
	for i, t := range tasks {
		if d.OwnAddress {
			t.OwnAddress, t.SourceIPs = true, nil
		}
		conn, err := d.Engine.Start(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("start agent %s on %s: %w", t.Agent, d.Engine.Name(), err)
		}
		r := &agentRun{task: t, conn: conn, clocks: make(chan time.Time, 1), done: make(chan struct{}), log: log}
		r.rep = reports.Agent{ID: t.Agent, Engine: d.Engine.Name(), SourceIPs: slices.Clone(t.SourceIPs),
			Users: fmt.Sprintf("u%03d-u%03d", t.FirstUser+1, t.FirstUser+t.Users)}
		runs[i] = r
		go r.read(sink, cfg.Counters)
		if err := r.send(t); err != nil {
			return nil, err
		}
	}
	for _, r := range runs {
		s, err := r.clock()
		if err != nil {
			return nil, fmt.Errorf("agent %s: compare clocks at the start: %w", r.task.Agent, err)
		}
		r.start = s
		r.setOffset(clockOf(s, clockSample{}).Offset)
	}
	// The load begins now, every agent connected: the fault schedule
	// starts from here, not from the agents' start-up.
	if cfg.OnStart != nil {
		cfg.OnStart()
	}
	for _, r := range runs {
		if err := r.command(cmdGo); err != nil {
			return nil, fmt.Errorf("agent %s: start its load: %w", r.task.Agent, err)
		}
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.finish(ctx, cfg.Duration)
		}()
	}
	wg.Wait()
	out := make([]reports.Agent, len(runs))
	var errs []error
	for i, r := range runs {
		r.mu.Lock()
		out[i] = r.rep
		r.mu.Unlock()
		// The run's offered load is its agents' together, so that the
		// report weighs what was offered against what was achieved as it
		// does for a load run here.
		if cfg.Arrivals != nil {
			cfg.Arrivals.Offered += out[i].Offered
			cfg.Arrivals.Dropped += out[i].Dropped
		}
		if out[i].Died != "" {
			errs = append(errs, fmt.Errorf("agent %s died: %s", r.task.Agent, out[i].Died))
		}
	}
	if ctx.Err() != nil {
		return out, fmt.Errorf("agents: %w", ctx.Err())
	}
	return out, errors.Join(errs...)
}

// agentRun is one agent on its way through a load.
type agentRun struct {
	task   Task
	conn   Conn
	log    *slog.Logger
	clocks chan time.Time // the agent's clock answers
	done   chan struct{}  // closed when its output ends
	start  clockSample

	mu       sync.Mutex
	offset   time.Duration
	rep      reports.Agent
	finished bool   // it said done
	loadErr  string // what its load said at done
	readErr  error
}

func (r *agentRun) send(t Task) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("agent %s: encode its task: %w", t.Agent, err)
	}
	if _, err := r.conn.In().Write(append(b, '\n')); err != nil {
		return fmt.Errorf("agent %s: hand over its task: %w", t.Agent, err)
	}
	return nil
}

func (r *agentRun) command(c string) error {
	_, err := io.WriteString(r.conn.In(), c+"\n")
	return err
}

func (r *agentRun) setOffset(o time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offset = o
}

// clockRounds is how many times clocks are compared at the start and at
// the end; the round with the shortest round trip is kept (the first
// answer may wait on the agent reading its task: a slow answer makes the
// middle of the round trip a poor guess).
const clockRounds = 5

// clock compares clocks clockRounds times and keeps the tightest sample.
func (r *agentRun) clock() (clockSample, error) {
	var best clockSample
	for range clockRounds {
		s, err := r.clockOnce()
		if err != nil {
			return clockSample{}, err
		}
		if best.got.IsZero() || s.got.Sub(s.sent) < best.got.Sub(best.sent) {
			best = s
		}
	}
	return best, nil
}

// clockOnce asks the agent for its clock and times the answer.
func (r *agentRun) clockOnce() (clockSample, error) {
	sent := time.Now()
	if err := r.command(cmdClock); err != nil {
		return clockSample{}, err
	}
	select {
	case at := <-r.clocks:
		return clockSample{sent: sent, at: at, got: time.Now()}, nil
	case <-r.done:
		return clockSample{}, errors.New("it ended before answering")
	case <-time.After(clockWait):
		return clockSample{}, fmt.Errorf("no answer within %s", clockWait)
	}
}

// read takes the agent's lines until its output ends: clock answers to
// clock, requests (moved onto our clock) to sink.
func (r *agentRun) read(sink load.Sink, counters *load.Counters) {
	defer close(r.done)
	sc := bufio.NewScanner(r.conn.Out())
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m msg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			r.mu.Lock()
			r.readErr = fmt.Errorf("undecodable line from agent %s: %w", r.task.Agent, err)
			r.mu.Unlock()
			return
		}
		switch m.Type {
		case msgClock:
			select {
			case r.clocks <- m.Clock:
			default:
			}
		case msgRequest:
			if m.Request == nil {
				continue
			}
			req := *m.Request
			r.mu.Lock()
			off := r.offset
			r.rep.Requests++
			r.noteAddresses(req)
			r.mu.Unlock()
			req.Start = req.Start.Add(-off)
			if !req.Scheduled.IsZero() {
				req.Scheduled = req.Scheduled.Add(-off)
			}
			counters.Count(&req)
			sink.Add(req)
		case msgDone:
			r.mu.Lock()
			r.finished, r.loadErr = true, m.Err
			r.rep.Offered, r.rep.Dropped = m.Offered, m.Dropped
			r.mu.Unlock()
		}
	}
	if err := sc.Err(); err != nil {
		r.mu.Lock()
		r.readErr = err
		r.mu.Unlock()
	}
}

// finish waits for the agent to say done (or die), compares clocks again,
// closes its input and waits for it to end.
func (r *agentRun) finish(ctx context.Context, load time.Duration) {
	limit := time.NewTimer(load + 30*time.Second)
	defer limit.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
wait:
	for !r.saidDone() {
		select {
		case <-r.done:
			break wait
		case <-ctx.Done():
			break wait
		case <-limit.C:
			break wait
		case <-tick.C:
		}
	}
	var end clockSample
	if r.saidDone() {
		if s, err := r.clock(); err == nil {
			end = s
		}
	}
	_ = r.conn.In().Close()
	waitErr := make(chan error, 1)
	go func() { waitErr <- r.conn.Wait() }()
	var exit error
	select {
	case exit = <-waitErr:
	case <-time.After(10 * time.Second):
		_ = r.conn.Kill()
		exit = <-waitErr
	}
	<-r.done
	c := clockOf(r.start, end)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.ClockOffset, r.rep.ClockBound = c.Offset, c.Bound
	switch {
	case !r.finished && r.readErr != nil:
		r.rep.Died = r.readErr.Error()
	case !r.finished && exit != nil:
		r.rep.Died = "it ended before its load did: " + exit.Error()
	case !r.finished:
		r.rep.Died = "it ended before its load did"
	case r.loadErr != "":
		r.rep.Died = "its load stopped: " + r.loadErr
	}
}

// maxSeenAs bounds the balancer's views of an agent's clients listed in
// its report (an agent with 100 users on loopback has 100).
const maxSeenAs = 16

// noteAddresses records (r.mu held) where req was sent from, when the
// agent chose its own address, and the client address the balancer saw
// (the last hop of X-Forwarded-For, as the provider reports it).
func (r *agentRun) noteAddresses(req history.Request) {
	if r.task.OwnAddress && req.SourceIP != "" && !slices.Contains(r.rep.SourceIPs, req.SourceIP) {
		r.rep.SourceIPs = append(r.rep.SourceIPs, req.SourceIP)
	}
	if req.Seen == nil || req.Seen.XForwardedFor == "" || len(r.rep.SeenAs) >= maxSeenAs {
		return
	}
	hops := strings.Split(req.Seen.XForwardedFor, ",")
	if last := strings.TrimSpace(hops[len(hops)-1]); !slices.Contains(r.rep.SeenAs, last) {
		r.rep.SeenAs = append(r.rep.SeenAs, last)
	}
}

func (r *agentRun) saidDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finished
}

// stop ends an agent still running (Drive returned early).
func (r *agentRun) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.conn.In().Close()
	_ = r.conn.Kill()
}
