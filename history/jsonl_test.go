package history

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func sample() *History {
	return &History{
		Meta: Meta{
			RunID: "r1", Scenario: "provider-crash", Seed: 42, Started: t0, Ended: t0.Add(time.Minute),
			Mode:      "offload",
			Domains:   []Domain{{Name: "abc.test", PublicIP: "127.0.1.1", HTTPS: "https://abc.test:8443/", HTTP: "http://abc.test:8080/"}},
			Providers: []string{"p1", "p2"}, ProviderShowsSeen: true,
		},
		Requests: []Request{
			{Seq: 1, User: "u001", SourceIP: "127.0.10.1", Start: t0, Latency: 3 * time.Millisecond, Tenant: "abc.test",
				Method: "POST", URL: "https://abc.test:8443/login", Op: OpLogin, Status: 200, Provider: "p1",
				SessionUser: "u001", TokenReceived: "tok1", Seen: &Seen{RemoteAddr: "127.0.2.9:1", XForwardedFor: "127.0.10.1", XForwardedProto: "https"}},
			{Seq: 2, Op: OpTLS, Start: t0.Add(time.Second), TLS: &TLSFacts{Address: "127.0.1.1:8443", ServerName: "abc.test",
				Version: "TLS 1.3", PeerNames: []string{"abc.test"}, Verified: true, Expected: "abc.test", NotAfter: t0.Add(24 * time.Hour)}},
		},
		Faults: []Fault{{ID: 1, Name: "provider-crash", Target: "p1", Provider: "p1", Injected: t0.Add(10 * time.Second), Recovered: t0.Add(20 * time.Second), ProviderFault: true}},
		Final: Final{
			DB: &DBState{Sides: []DBSide{{Name: "a", Reachable: true, IORunning: true, SQLRunning: true, AutoIncInc: 2, AutoIncOff: 1,
				Checksums: map[string]int64{"messages": 7}, Messages: map[string]int{"m1": 1}}}, Converged: true, ConvergeWait: time.Second},
			Clearing: &ClearingState{Cleared: map[string]int{"m1": 1}},
			Lag:      []LagSample{{At: t0, From: "a", Lag: time.Millisecond}},
			Measures: map[string]float64{"rto_seconds": 1.5},
		},
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	h := sample()
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, h))
	assert.Equal(t, 5, strings.Count(buf.String(), "\n"), "one line per record")
	got, err := Read(&buf)
	require.NoError(t, err)
	assert.Equal(t, h, got)
}

func TestReadErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"bad json", `{"type":"meta","meta":{}}` + "\n\n" + `{"type":"request",` + "\n", "line 3"},
		{"unknown type", `{"type":"meta","meta":{}}` + "\n" + `{"type":"bogus"}` + "\n", `line 2: unknown record type "bogus"`},
		{"no type", `{"meta":{}}`, `line 1: record without "type"`},
		{"no payload", `{"type":"request"}`, `line 1: request record without "request" field`},
		{"wrong field type", `{"type":"request","request":{"status":"x"}}`, "line 1: decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestReadLongLineAndNoTrailingNewline(t *testing.T) {
	msgs := map[string]int{}
	for i := range 20000 {
		msgs[fmt.Sprintf("message-%06d", i)] = 1
	}
	h := &History{Meta: Meta{RunID: "x"}, Final: Final{Clearing: &ClearingState{Cleared: msgs}}}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, h))
	require.Greater(t, buf.Len(), 128<<10, "final line must exceed the reader's buffer")
	in := strings.TrimSuffix(buf.String(), "\n")
	got, err := Read(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, msgs, got.Final.Clearing.Cleared)
}

func TestRecorderConcurrentStream(t *testing.T) {
	rec := NewRecorder(Meta{RunID: "r", Started: t0})
	var buf bytes.Buffer
	require.NoError(t, rec.StreamTo(&buf))
	rec.SetMeta(Meta{RunID: "r", Started: t0, Mode: "offload"})

	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				rec.Add(Request{User: fmt.Sprintf("u%02d", w), Op: OpInbox, Status: 200, Start: t0.Add(time.Duration(i) * time.Millisecond)})
			}
		}()
	}
	id := rec.Fault(Fault{Name: "provider-hang", Target: "p2", Injected: t0, ProviderFault: true})
	wg.Wait()
	require.NoError(t, rec.Recovered(id, t0.Add(5*time.Second), ""))
	require.Error(t, rec.Recovered(99, t0, ""))
	require.NoError(t, rec.Finish(t0.Add(time.Minute), Final{Measures: map[string]float64{"x": 1}}))

	mem := rec.History()
	require.Len(t, mem.Requests, workers*each)
	for i, r := range mem.Requests {
		require.Equal(t, int64(i+1), r.Seq, "Seq is dense and in order")
	}
	got, err := Read(&buf)
	require.NoError(t, err)
	assert.Equal(t, mem, got, "the streamed lines decode to the in-memory history")
	require.Len(t, got.Faults, 1, "the recovery line replaces the injection line")
	assert.Equal(t, t0.Add(5*time.Second), got.Faults[0].Recovered)
	assert.Equal(t, t0.Add(time.Minute), got.Meta.Ended)
	assert.Equal(t, "offload", got.Meta.Mode)
}

func TestRecorderStreamAfterRecords(t *testing.T) {
	rec := NewRecorder(Meta{RunID: "late"})
	rec.Add(Request{Op: OpLogin})
	rec.Fault(Fault{Name: "f"})
	var buf bytes.Buffer
	require.NoError(t, rec.StreamTo(&buf))
	snap := rec.History()
	rec.Add(Request{Op: OpInbox})
	require.NoError(t, rec.Recovered(1, t0, "x"))
	assert.Len(t, snap.Requests, 1, "a snapshot does not grow")
	assert.True(t, snap.Faults[0].Recovered.IsZero(), "a snapshot's faults do not change")
	require.NoError(t, rec.Flush())
	got, err := Read(&buf)
	require.NoError(t, err)
	assert.Len(t, got.Requests, 2)
	assert.Len(t, got.Faults, 1)
	assert.Equal(t, 2, rec.Len())
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestRecorderStreamErrorSticksButKeepsRecords(t *testing.T) {
	rec := NewRecorder(Meta{})
	require.NoError(t, rec.StreamTo(failWriter{}))
	rec.Add(Request{Op: OpInbox})
	err := rec.Flush()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	assert.Equal(t, 1, rec.Len(), "a stream error never drops a record from memory")
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := Write(&buf, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"type":"fault","fault":{"id":1,"name":"a"}}` + "\n" + `{"type":"fault","fault":{"id":1,"name":"b"}}`))
	f.Add([]byte("\n\n{}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := Read(bytes.NewReader(in))
		if err != nil {
			if !strings.Contains(err.Error(), "line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		// Whatever decodes must encode and decode to the same history.
		var out bytes.Buffer
		if err := Write(&out, h); err != nil {
			t.Fatalf("write decoded history: %v", err)
		}
		h2, err := Read(&out)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(h2.Requests) != len(h.Requests) || len(h2.Faults) != len(h.Faults) {
			t.Fatalf("round trip changed counts: %d/%d requests, %d/%d faults",
				len(h.Requests), len(h2.Requests), len(h.Faults), len(h2.Faults))
		}
	})
}

func TestRecorderFlushesFaultsAtOnce(t *testing.T) {
	rec := NewRecorder(Meta{RunID: "f"})
	var buf bytes.Buffer
	require.NoError(t, rec.StreamTo(&buf))
	id := rec.Fault(Fault{Name: "provider-crash", Target: "p1", Injected: t0})
	got, err := Read(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.Len(t, got.Faults, 1, "the injection is on disk before the fault does harm")
	require.NoError(t, rec.Recovered(id, t0.Add(time.Second), "restart failed"))
	got, err = Read(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, "restart failed", got.Faults[0].Err)
	assert.Equal(t, t0.Add(time.Second), got.Faults[0].Recovered)
}
