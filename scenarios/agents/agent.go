package agents

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios/load"
)

// Serve is an agent: it reads its task from in, answers every "clock"
// with its clock, runs the task's load when told "go" and writes each
// request to out as it finishes, then "done". It returns when in ends
// (the coordinator is gone or finished with it) or ctx does.
func Serve(ctx context.Context, in io.Reader, out io.Writer, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	if !sc.Scan() {
		return fmt.Errorf("agent: no task on standard input: %v", sc.Err())
	}
	var task Task
	if err := json.Unmarshal(sc.Bytes(), &task); err != nil {
		return fmt.Errorf("agent: read the task: %w", err)
	}
	cfg, err := task.Load()
	if err != nil {
		return err
	}
	cfg.Logger = log.With("agent", task.Agent)
	w := &lineWriter{enc: json.NewEncoder(out)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	started := false
read:
	for sc.Scan() {
		switch cmd := sc.Text(); cmd {
		case cmdEnd:
			break read
		case cmdClock:
			if err := w.write(msg{Type: msgClock, Clock: time.Now()}); err != nil {
				return err
			}
		case cmdGo:
			if started {
				continue
			}
			started = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				var arrivals load.Arrivals
				cfg.Arrivals = &arrivals
				err := load.Run(ctx, cfg, sinkFunc(func(r history.Request) int64 {
					_ = w.write(msg{Type: msgRequest, Request: &r})
					return 0
				}))
				m := msg{Type: msgDone, Offered: arrivals.Offered, Dropped: arrivals.Dropped}
				if err != nil {
					m.Err = err.Error()
				}
				_ = w.write(m)
			}()
		default:
			return fmt.Errorf("agent %s: unknown command %q", task.Agent, cmd)
		}
	}
	// The coordinator ended our input: stop a load still running.
	cancel()
	return sc.Err()
}

// sinkFunc adapts a func to load.Sink.
type sinkFunc func(history.Request) int64

func (f sinkFunc) Add(r history.Request) int64 { return f(r) }

// lineWriter writes one JSON message a line, from several goroutines.
type lineWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (w *lineWriter) write(m msg) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.enc.Encode(m); err != nil {
		return fmt.Errorf("agent: write to the coordinator: %w", err)
	}
	return nil
}
