package deploy

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/regify-verify/regify-verify/reports"
)

// Run is the `go test` API for a real deployment: it checks the deployment
// file (with Options; the zero value runs its load without faults) and
// reports each scenario as a subtest with one subtest per invariant, so a
// pipeline can say
//
//	func TestStaging(t *testing.T) { deploy.Run(t, "deployment.yaml", deploy.Options{}) }
//
// A failed invariant fails its subtest with the evidence; a skipped one is
// skipped, unless the file requires it: then the scenario is incomplete
// and fails with the reason. A file that does not parse fails the test.
func Run(t *testing.T, file string, opts Options) *reports.Report {
	t.Helper()
	d, err := Load(file)
	if err != nil {
		t.Fatalf("deployment file: %v", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	rep, err := Check(ctx, d, opts)
	if err != nil {
		t.Fatalf("check %s: %v", d.Name, err)
	}
	for _, sc := range rep.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			if sc.Error != "" {
				t.Fatalf("could not be judged: %s", sc.Error)
			}
			for _, why := range sc.NotJudged {
				t.Errorf("incomplete, not judged: %s", why)
			}
			for _, inv := range sc.Invariants {
				t.Run(inv.Name, func(t *testing.T) {
					switch inv.Verdict {
					case reports.Fail:
						t.Errorf("%s: %s\n%s", inv.Name, inv.Summary, strings.Join(inv.Evidence, "\n"))
					case reports.Skip:
						t.Skipf("skipped: %s", inv.Summary)
					default:
						t.Logf("%s: %s", inv.Verdict, inv.Summary)
					}
				})
			}
		})
	}
	return rep
}

// testLog sends log lines to the test's log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
