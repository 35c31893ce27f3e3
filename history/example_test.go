package history_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// A run records as it goes, streaming JSON lines; the lines are judged later.
func ExampleRecorder() {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	rec := history.NewRecorder(history.Meta{RunID: "r1", Scenario: "provider-crash", Started: start})
	var file bytes.Buffer // an *os.File in a run
	if err := rec.StreamTo(&file); err != nil {
		panic(err)
	}

	// Load goroutines, concurrently:
	rec.Add(history.Request{User: "u001", SourceIP: "127.0.10.1", Start: start, Op: history.OpLogin, Status: 200, Provider: "p1"})
	// Fault code:
	id := rec.Fault(history.Fault{Name: "provider-crash", Target: "p1", Injected: start.Add(time.Second), ProviderFault: true})
	_ = rec.Recovered(id, start.Add(3*time.Second), "")
	// The runner, at the end:
	_ = rec.Finish(start.Add(time.Minute), history.Final{})

	h, err := history.Read(&file)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(h.Requests), h.Requests[0].Seq, h.Faults[0].Recovered.Sub(h.Faults[0].Injected), h.Meta.Ended.Sub(h.Meta.Started))
	// Output: 1 1 2s 1m0s
}
