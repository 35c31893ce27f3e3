package agents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Remote is the engine for agents the coordinator does not start itself
// (pods of an Indexed Job, replicas of a swarm service, or processes an
// operator starts): it listens, and agent number i (1-based) connects to
// it with `regify-verify agent --coordinator URL --index i`. The wire is
// one full-duplex HTTP/1.1 exchange per agent: the agent's lines go up in
// the request body, the task and the commands come down in the response.
type Remote struct {
	// Wait bounds how long Start waits for its agent to connect.
	Wait time.Duration
	// EndWait bounds how long an agent's exchange stays open after its
	// input was closed, for its last lines (default 10 s); an agent ends
	// its half at once when told (cmdEnd).
	EndWait time.Duration

	srv  *http.Server
	ln   net.Listener
	mu   sync.Mutex
	want map[int]chan *remoteConn // agent index → its connection, once it calls
}

// PathAgent is where agent i posts: PathAgent + strconv.Itoa(i).
const PathAgent = "/agents/"

// NewRemote listens on addr (host:port; port 0 picks one) for agents.
func NewRemote(addr string, wait time.Duration) (*Remote, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for agents on %s: %w", addr, err)
	}
	return NewRemoteOn(ln, wait), nil
}

// NewRemoteOn serves agents on ln.
func NewRemoteOn(ln net.Listener, wait time.Duration) *Remote {
	r := &Remote{Wait: wait, ln: ln, want: map[int]chan *remoteConn{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathAgent+"{index}", r.serveAgent)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r
}

// URL is the base URL agents are given (--coordinator).
func (r *Remote) URL() string { return "http://" + r.ln.Addr().String() }

// Close stops listening and ends every agent's exchange.
func (r *Remote) Close() error { return r.srv.Close() }

// Name implements Engine.
func (r *Remote) Name() string { return "remote" }

func (r *Remote) slot(i int) chan *remoteConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.want[i]
	if !ok {
		ch = make(chan *remoteConn, 1)
		r.want[i] = ch
	}
	return ch
}

// Start implements Engine: it waits for the agent whose index is the
// task's (a1 is 1) to connect.
func (r *Remote) Start(ctx context.Context, t Task) (Conn, error) {
	i, err := strconv.Atoi(t.Agent[1:])
	if err != nil {
		return nil, fmt.Errorf("agent %q: no index", t.Agent)
	}
	wait := r.Wait
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	select {
	case c := <-r.slot(i):
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(wait):
		return nil, fmt.Errorf("agent %d did not connect to %s within %s", i, r.URL(), wait)
	}
}

// serveAgent is one agent's exchange: it stays open until the
// coordinator closes the agent's input or the agent goes.
func (r *Remote) serveAgent(w http.ResponseWriter, req *http.Request) {
	i, err := strconv.Atoi(req.PathValue("index"))
	if err != nil || i < 1 {
		http.Error(w, "agent index: want 1, 2, …", http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	if err := rc.EnableFullDuplex(); err != nil {
		http.Error(w, "full duplex: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	c := &remoteConn{w: w, rc: rc, closed: make(chan struct{}), ended: make(chan struct{})}
	c.body = &endReader{r: req.Body, ended: c.ended}
	select {
	case r.slot(i) <- c:
	default:
		return // this index is taken: a second agent with it is sent away
	}
	// Nothing may be written to the response once this handler returns.
	defer func() {
		c.mu.Lock()
		c.gone = true
		c.mu.Unlock()
	}()
	select {
	case <-c.closed:
		// Its input ends now; its output ends when it has stopped. The
		// body must not be read after this handler returns.
		endWait := r.EndWait
		if endWait <= 0 {
			endWait = 10 * time.Second
		}
		select {
		case <-c.ended:
		case <-req.Context().Done():
		case <-time.After(endWait):
		}
	case <-c.ended:
	case <-req.Context().Done():
	}
}

// endReader closes ended when its reader ends (EOF or error).
type endReader struct {
	r     io.Reader
	once  sync.Once
	ended chan struct{}
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.once.Do(func() { close(e.ended) })
	}
	return n, err
}

// remoteConn is the coordinator's end of one agent's HTTP exchange.
type remoteConn struct {
	mu     sync.Mutex
	w      io.Writer
	rc     *http.ResponseController
	body   io.Reader
	once   sync.Once
	gone   bool          // the handler returned: the response is over
	closed chan struct{} // the coordinator closed the agent's input
	ended  chan struct{} // the agent's output ended
}

func (c *remoteConn) In() io.WriteCloser { return c }
func (c *remoteConn) Out() io.Reader     { return c.body }

// Write sends lines down to the agent at once.
func (c *remoteConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return 0, errors.New("the agent's exchange is over")
	}
	select {
	case <-c.closed:
		return 0, errors.New("agent input closed")
	default:
	}
	n, err := c.w.Write(b)
	if err == nil {
		err = c.rc.Flush()
	}
	return n, err
}

// Close ends the agent's input: it is told so in band (the response
// itself ends only once the agent's request body has), and stops.
func (c *remoteConn) Close() error {
	_, _ = c.Write([]byte(cmdEnd + "\n"))
	c.once.Do(func() { close(c.closed) })
	return nil
}

// Wait waits for the agent's output to end.
func (c *remoteConn) Wait() error {
	select {
	case <-c.ended:
	case <-time.After(10 * time.Second):
		return errors.New("the agent did not end its exchange")
	}
	return nil
}

// Kill ends the exchange from this side.
func (c *remoteConn) Kill() error { return c.Close() }

// Dial is the agent's end: it posts to the coordinator at base as agent
// index and returns what comes down (its input) and where its lines go up
// (its output; closing it ends the exchange).
func Dial(ctx context.Context, base string, index int) (in io.ReadCloser, out io.WriteCloser, err error) {
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+PathAgent+strconv.Itoa(index), pr)
	if err != nil {
		return nil, nil, fmt.Errorf("agent %d: %w", index, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		pw.Close()
		return nil, nil, fmt.Errorf("agent %d: reach the coordinator at %s: %w", index, base, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		pw.Close()
		return nil, nil, fmt.Errorf("agent %d: the coordinator at %s answered %s: %s", index, base, resp.Status, b)
	}
	return resp.Body, pw, nil
}
