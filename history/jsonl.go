package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The record types of the JSON-lines encoding: every line is one object with
// a "type" tag and exactly one payload field of the same name:
//
//	{"type":"meta","meta":{"run_id":"…","scenario":"provider-crash","seed":42,…}}
//	{"type":"request","request":{"seq":1,"user":"u001","source_ip":"127.0.10.1",…}}
//	{"type":"fault","fault":{"id":1,"name":"provider-crash","target":"p1","injected":"…"}}
//	{"type":"fault","fault":{"id":1,…,"recovered":"…"}}   (the recovery replaces it)
//	{"type":"final","final":{"db":{…},"clearing":{…},"lag":[…]}}
//
// Durations are integer nanoseconds (fields ending in _ns), times RFC 3339.
const (
	TypeMeta    = "meta"
	TypeRequest = "request"
	TypeFault   = "fault"
	TypeFinal   = "final"
)

// line is one JSON line. Only the field named by Type is set.
type line struct {
	Type    string   `json:"type"`
	Meta    *Meta    `json:"meta,omitempty"`
	Request *Request `json:"request,omitempty"`
	Fault   *Fault   `json:"fault,omitempty"`
	Final   *Final   `json:"final,omitempty"`
}

// Write encodes h as JSON lines: the meta record, every request, every fault,
// then the final state.
func Write(w io.Writer, h *History) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(line{Type: TypeMeta, Meta: &h.Meta}); err != nil {
		return fmt.Errorf("history: write meta: %w", err)
	}
	for i := range h.Requests {
		if err := enc.Encode(line{Type: TypeRequest, Request: &h.Requests[i]}); err != nil {
			return fmt.Errorf("history: write request %d: %w", h.Requests[i].Seq, err)
		}
	}
	for i := range h.Faults {
		if err := enc.Encode(line{Type: TypeFault, Fault: &h.Faults[i]}); err != nil {
			return fmt.Errorf("history: write fault %q: %w", h.Faults[i].Name, err)
		}
	}
	if err := enc.Encode(line{Type: TypeFinal, Final: &h.Final}); err != nil {
		return fmt.Errorf("history: write final: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("history: flush: %w", err)
	}
	return nil
}

// Read decodes a history written by Write or streamed by a Recorder. Blank
// lines are skipped; unknown fields are ignored so newer files stay readable.
// A later meta or final record replaces an earlier one (a Recorder writes the
// meta again when the run ends), and a fault record whose id was seen before
// replaces that fault (its recovery). Errors name the line number.
func Read(r io.Reader) (*History, error) {
	h := &History{}
	faultAt := map[int]int{} // fault id -> index in h.Faults
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer (a large final state): gather it.
			long = append(long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("history: line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if derr := decodeLine(h, faultAt, b); derr != nil {
				return nil, fmt.Errorf("history: line %d: %w", n, derr)
			}
		}
		if err != nil { // io.EOF
			return h, nil
		}
	}
}

func decodeLine(h *History, faultAt map[int]int, b []byte) error {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	switch l.Type {
	case TypeMeta:
		if l.Meta == nil {
			return errors.New(`meta record without "meta" field`)
		}
		h.Meta = *l.Meta
	case TypeRequest:
		if l.Request == nil {
			return errors.New(`request record without "request" field`)
		}
		h.Requests = append(h.Requests, *l.Request)
	case TypeFault:
		if l.Fault == nil {
			return errors.New(`fault record without "fault" field`)
		}
		if i, ok := faultAt[l.Fault.ID]; ok && l.Fault.ID != 0 {
			h.Faults[i] = *l.Fault
			return nil
		}
		if l.Fault.ID != 0 {
			faultAt[l.Fault.ID] = len(h.Faults)
		}
		h.Faults = append(h.Faults, *l.Fault)
	case TypeFinal:
		if l.Final == nil {
			return errors.New(`final record without "final" field`)
		}
		h.Final = *l.Final
	case "":
		return errors.New(`record without "type"`)
	default:
		return fmt.Errorf("unknown record type %q", l.Type)
	}
	return nil
}
