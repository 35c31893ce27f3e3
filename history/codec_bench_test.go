package history

import (
	"bytes"
	"encoding/json"
	"testing"
)

// BenchmarkCodec compares, in one run, the fast codec with encoding/json
// per request line of the realistic mix (ns/op is per request).
func BenchmarkCodec(b *testing.B) {
	reqs := realisticRequests(10_000, 7)
	var lines [][]byte
	var size int
	for i := range reqs {
		l, err := appendLine(nil, line{Type: TypeRequest, Request: &reqs[i]})
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, l)
		size += len(l)
	}
	avg := int64(size / len(lines))

	b.Run("encode/fast", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		var buf []byte
		i := 0
		for b.Loop() {
			var ok bool
			if buf, ok = appendRequestLine(buf[:0], &reqs[i]); !ok {
				b.Fatal("fast encoder gave up")
			}
			i = (i + 1) % len(reqs)
		}
	})
	b.Run("encode/encoding-json", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		i := 0
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(line{Type: TypeRequest, Request: &reqs[i]}); err != nil {
				b.Fatal(err)
			}
			i = (i + 1) % len(reqs)
		}
	})
	b.Run("decode/fast", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		d := newDecoder()
		out := make([]Request, len(lines))
		i := 0
		for b.Loop() {
			out[i] = Request{}
			if !d.requestLine(lines[i], &out[i]) {
				b.Fatal("fast decoder gave up")
			}
			i = (i + 1) % len(lines)
		}
	})
	b.Run("decode/encoding-json", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		out := make([]Request, len(lines))
		i := 0
		for b.Loop() {
			var l line
			if err := json.Unmarshal(lines[i], &l); err != nil {
				b.Fatal(err)
			}
			out[i] = *l.Request
			i = (i + 1) % len(lines)
		}
	})
}
