package history

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Recorder collects a History while a run is going: many load goroutines add
// requests, fault code adds faults and their recovery, the runner adds the
// final state. It assigns Request.Seq (from 1, in the order of Add) and
// Fault.ID (from 1). When streaming, every record is also written as one JSON
// line as it comes, so a crashed run still leaves its history behind.
// All methods are safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	h   History
	seq int64
	bw  *bufio.Writer // nil when not streaming
	err error         // first stream error; records are still kept in memory
}

// NewRecorder starts the history of one run.
func NewRecorder(meta Meta) *Recorder {
	return &Recorder{h: History{Meta: meta}}
}

// StreamTo writes everything recorded so far to w as JSON lines and then
// every new record as it arrives. Lines are buffered: Flush or Finish writes
// them out (fault records are flushed at once; call Flush on a ticker to
// bound what a crash can lose). The caller owns w and closes it after Finish.
func (r *Recorder) StreamTo(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bw = bufio.NewWriterSize(w, 64<<10)
	r.emit(line{Type: TypeMeta, Meta: &r.h.Meta})
	for i := range r.h.Requests {
		r.emit(line{Type: TypeRequest, Request: &r.h.Requests[i]})
	}
	for i := range r.h.Faults {
		r.emit(line{Type: TypeFault, Fault: &r.h.Faults[i]})
	}
	return r.err
}

// emit writes one line when streaming; the first error sticks. Called with mu held.
func (r *Recorder) emit(l line) {
	if r.bw == nil || r.err != nil {
		return
	}
	if err := writeLine(r.bw, l); err != nil {
		r.err = fmt.Errorf("history: stream %s record: %w", l.Type, err)
	}
}

// Add records one request, assigns its Seq and returns it.
func (r *Recorder) Add(req Request) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	req.Seq = r.seq
	r.h.Requests = append(r.h.Requests, req)
	r.emit(line{Type: TypeRequest, Request: &req})
	return req.Seq
}

// Fault records an injected fault, assigns its ID and returns it. Record
// the recovery with Recovered.
func (r *Recorder) Fault(f Fault) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	f.ID = len(r.h.Faults) + 1
	r.h.Faults = append(r.h.Faults, f)
	r.emit(line{Type: TypeFault, Fault: &f})
	_ = r.flush() // faults are few and the record that explains a run: write them at once
	return f.ID
}

// Recovered marks fault id as recovered at the given time; errText says why
// the recovery failed, if it did. An unknown id is an error.
func (r *Recorder) Recovered(id int, at time.Time, errText string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id < 1 || id > len(r.h.Faults) {
		return fmt.Errorf("history: recovery of unknown fault id %d", id)
	}
	f := &r.h.Faults[id-1]
	f.Recovered = at
	if errText != "" {
		f.Err = errText
	}
	c := *f
	r.emit(line{Type: TypeFault, Fault: &c})
	_ = r.flush()
	return nil
}

// SetMeta replaces the run's description (the lab's addresses are known
// only once it is up) and streams it; the last meta record wins on Read.
func (r *Recorder) SetMeta(m Meta) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h.Meta = m
	r.emit(line{Type: TypeMeta, Meta: &m})
}

// Finish records the end of the run and its final state, writes the meta
// record again (now with Ended) and the final record, and flushes. Records
// added afterwards are still kept.
func (r *Recorder) Finish(ended time.Time, final Final) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h.Meta.Ended = ended
	r.h.Final = final
	m := r.h.Meta
	r.emit(line{Type: TypeMeta, Meta: &m})
	r.emit(line{Type: TypeFinal, Final: &r.h.Final})
	return r.flush()
}

// Flush writes buffered lines out and returns the first stream error.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flush()
}

func (r *Recorder) flush() error {
	if r.bw != nil && r.err == nil {
		if err := r.bw.Flush(); err != nil {
			r.err = fmt.Errorf("history: flush stream: %w", err)
		}
	}
	return r.err
}

// Len is the number of requests recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.h.Requests)
}

// History returns everything recorded so far, requests in Seq order. Later
// records do not change it. The requests are shared with the recorder, not
// copied (a long run holds millions): treat them as read-only.
func (r *Recorder) History() *History {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.h
	// Add only appends past len, so a clipped slice never sees later records;
	// faults are copied because Recovered changes them in place.
	h.Requests = slices.Clip(r.h.Requests)
	h.Faults = slices.Clone(r.h.Faults)
	return &h
}
