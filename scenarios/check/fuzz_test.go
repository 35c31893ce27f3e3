package check

import (
	"bytes"
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// FuzzInvariants: whatever history decodes, every invariant judges it
// without panicking and with a valid verdict and a summary.
func FuzzInvariants(f *testing.F) {
	h := generate(60)
	h.Final.DB = &history.DBState{Sides: []history.DBSide{side("a", 2, 1), side("b", 2, 2)}, Converged: true}
	h.Final.Clearing = &history.ClearingState{Cleared: map[string]int{"m10": 1}}
	h.Final.Lag = []history.LagSample{{At: at(1), From: "a", Lag: time.Millisecond}}
	var buf bytes.Buffer
	if err := history.Write(&buf, h); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"type":"fault","fault":{"name":"x","provider_fault":true,"database_fault":true}}` + "\n" +
		`{"type":"request","request":{"user":"u","source_ip":"1","provider":"p","status":200,"token_sent":"a","session_user":"u","op":"redirect-probe","url":"http://[::1]:x/%zz"}}`))
	f.Add([]byte(`{"type":"request","request":{"op":"tls-probe","tls":{"address":"[","version":"TLS 1.","peer_names":["*."]}}}`))
	invs := All(DefaultBounds())
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := history.Read(bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, v := range Run(h, invs) {
			switch v.Verdict {
			case reports.Pass, reports.Fail, reports.Skip:
			default:
				t.Fatalf("%s: verdict %q", v.Name, v.Verdict)
			}
			if v.Summary == "" {
				t.Fatalf("%s: empty summary", v.Name)
			}
			if len(v.Evidence) > MaxEvidence+1 {
				t.Fatalf("%s: %d evidence lines", v.Name, len(v.Evidence))
			}
		}
		Timeline(h, time.Second)
		FaultWindows(h)
	})
}
