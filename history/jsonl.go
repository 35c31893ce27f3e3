package history

import (
	"bufio"
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
// then the final state. The bytes are those json.Encoder writes; request
// lines come from the fast codec (codec.go).
func Write(w io.Writer, h *History) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := writeLine(bw, line{Type: TypeMeta, Meta: &h.Meta}); err != nil {
		return fmt.Errorf("history: write meta: %w", err)
	}
	for i := range h.Requests {
		if err := writeLine(bw, line{Type: TypeRequest, Request: &h.Requests[i]}); err != nil {
			return fmt.Errorf("history: write request %d: %w", h.Requests[i].Seq, err)
		}
	}
	for i := range h.Faults {
		if err := writeLine(bw, line{Type: TypeFault, Fault: &h.Faults[i]}); err != nil {
			return fmt.Errorf("history: write fault %q: %w", h.Faults[i].Name, err)
		}
	}
	if err := writeLine(bw, line{Type: TypeFinal, Final: &h.Final}); err != nil {
		return fmt.Errorf("history: write final: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("history: flush: %w", err)
	}
	return nil
}

// writeLine encodes l into bw's free buffer (no copy when it fits) and
// writes it.
func writeLine(bw *bufio.Writer, l line) error {
	if bw.Available() < 4<<10 && bw.Buffered() > 0 {
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	b, err := appendLine(bw.AvailableBuffer(), l)
	if err != nil {
		return err
	}
	_, err = bw.Write(b)
	return err
}

// Read decodes a history written by Write or streamed by a Recorder. Blank
// lines are skipped; unknown fields are ignored so newer files stay readable.
// A later meta or final record replaces an earlier one (a Recorder writes the
// meta again when the run ends), and a fault record whose id was seen before
// replaces that fault (its recovery). Errors name the line number.
//
// Request lines are decoded by the fast decoder (codec.go), on up to four
// goroutines (no more than GOMAXPROCS) for inputs of more than a block
// (read.go); everything else, and any line the fast decoder is not sure of,
// by encoding/json, with the same result.
func Read(r io.Reader) (*History, error) {
	return read(r, readWorkers())
}

// decodeLine decodes line b with encoding/json: the lines the fast decoder
// leaves (meta, faults, final, unusual requests). A meta, fault or final
// record is applied to h; a request is returned for the caller to place.
func decodeLine(h *History, faultAt map[int]int, b []byte) (*Request, error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	switch l.Type {
	case TypeMeta:
		if l.Meta == nil {
			return nil, errors.New(`meta record without "meta" field`)
		}
		h.Meta = *l.Meta
	case TypeRequest:
		if l.Request == nil {
			return nil, errors.New(`request record without "request" field`)
		}
		return l.Request, nil
	case TypeFault:
		if l.Fault == nil {
			return nil, errors.New(`fault record without "fault" field`)
		}
		if i, ok := faultAt[l.Fault.ID]; ok && l.Fault.ID != 0 {
			h.Faults[i] = *l.Fault
			return nil, nil
		}
		if l.Fault.ID != 0 {
			faultAt[l.Fault.ID] = len(h.Faults)
		}
		h.Faults = append(h.Faults, *l.Fault)
	case TypeFinal:
		if l.Final == nil {
			return nil, errors.New(`final record without "final" field`)
		}
		h.Final = *l.Final
	case "":
		return nil, errors.New(`record without "type"`)
	default:
		return nil, fmt.Errorf("unknown record type %q", l.Type)
	}
	return nil, nil
}
