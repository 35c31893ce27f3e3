package deploy

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/reports"
)

// TestRunAPI: the go test API judges a real HAProxy with a good
// configuration and reports one subtest per invariant, all passing.
func TestRunAPI(t *testing.T) {
	bin := lookBinary(t, haproxyBin, "haproxy")
	rig := newRig(t)
	cfg := rig.render(t, filepath.Join("..", "..", "examples", "haproxy", "good.cfg.tmpl"))
	out, err := exec.Command(bin, "-c", "-q", "-f", cfg).CombinedOutput()
	require.NoError(t, err, "haproxy -c: %s", out)
	rig.waitReady(t, startProcess(t, bin, "-db", "-f", cfg))
	d := rig.deployment(t, "")
	require.NotEmpty(t, d.File)
	rep := Run(t, d.File, Options{Seed: 7, RunID: "gotest"})
	require.Len(t, rep.Scenarios, 1)
	assert.Equal(t, reports.Pass, rep.Verdict)
	assert.Empty(t, rep.Scenarios[0].NotJudged)
}
