package history

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

func benchHistory(n int) *History {
	h := &History{Meta: Meta{RunID: "bench", Started: t0}}
	h.Requests = make([]Request, n)
	for i := range h.Requests {
		h.Requests[i] = Request{Seq: int64(i + 1), User: "u" + strconv.Itoa(i%1000), SourceIP: "127.0.10.1", Start: t0.Add(time.Duration(i) * time.Millisecond),
			Latency: 3 * time.Millisecond, Tenant: "abc.test", Method: "GET", URL: "https://abc.test:8443/inbox", Op: OpInbox, Status: 200,
			Provider: "p1", SessionUser: "u1", TokenSent: "tok-" + strconv.Itoa(i), TokenReceived: "tok-" + strconv.Itoa(i+1),
			Seen: &Seen{RemoteAddr: "127.0.0.1:4000", XForwardedFor: "127.0.10.1", XForwardedProto: "https"}}
	}
	return h
}

// BenchmarkWrite and BenchmarkRead measure the JSON-lines encoding per
// 100,000 requests.
func BenchmarkWrite(b *testing.B) {
	h := benchHistory(100_000)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, h); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, benchHistory(100_000)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecorderAdd is the cost the load generator pays per request,
// streaming to a discarded writer, from two goroutines.
func BenchmarkRecorderAdd(b *testing.B) {
	rec := NewRecorder(Meta{RunID: "bench"})
	if err := rec.StreamTo(discard{}); err != nil {
		b.Fatal(err)
	}
	r := benchHistory(1).Requests[0]
	b.ReportAllocs()
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec.Add(r)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
