package catalogue_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/internal/testbin"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/catalogue"
)

func TestMain(m *testing.M) {
	harness.PrepareEnv()
	// Container steps are not news in a test log; failures surface as errors.
	tclog.SetDefault(tclog.NewNoopLogger())
	// provider-kill and provider-pause start regify-verify as providers.
	cleanup, err := testbin.Setenv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build regify-verify for provider processes:", err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// TestCatalogue runs every scenario of the catalogue in the lab, negative
// controls included: good setups must pass, broken ones must fail with the
// expected invariant. REGIFY_VERIFY_SCENARIOS=a,b narrows it down. They
// run side by side as `regify-verify run` runs them.
func TestCatalogue(t *testing.T) {
	if testing.Short() {
		t.Skip("the catalogue brings up real labs; skipped with -short")
	}
	specs, err := catalogue.Find(os.Getenv("REGIFY_VERIFY_SCENARIOS"))
	require.NoError(t, err)
	cfg := scenarios.Config{Seed: 42, RunID: "cat"}
	scenarios.RunAll(t, cfg, scenarios.DefaultParallel(), specs...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	left, err := harness.Owned(ctx)
	require.NoError(t, err)
	require.Empty(t, left, "a scenario left containers or networks behind")
}
