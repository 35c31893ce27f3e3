package faults

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunHookTimeoutKillsTheGroup(t *testing.T) {
	start := time.Now()
	// The background sleep keeps the output pipe open: only killing the
	// whole process group ends it in time.
	_, err := runHook(context.Background(), "f", "inject", "sleep 30 & sleep 30", 200*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not finish within 200ms (killed)")
	assert.Less(t, time.Since(start), 5*time.Second)

	out, err := runHook(context.Background(), "f", "recover", `echo "$REGIFY_VERIFY_FAULT $REGIFY_VERIFY_PHASE"`, time.Second)
	require.NoError(t, err)
	assert.Equal(t, "f recover", out)
}
