package mariadb

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestExternalRefusesFaultsAndBadDSN(t *testing.T) {
	_, err := NewExternal(ExternalOptions{DSN: [2]string{"not a dsn", "u:p@tcp(127.0.0.1:1)/x"}})
	require.Error(t, err)
	e, err := NewExternal(ExternalOptions{DSN: [2]string{"u:p@tcp(127.0.0.1:1)/x", "u:p@tcp(127.0.0.1:2)/x"}})
	require.NoError(t, err)
	ctx := context.Background()
	require.ErrorIs(t, e.CutReplication(ctx), ErrFaultsNotAllowed)
	require.ErrorIs(t, e.StopReplica(ctx, A), ErrFaultsNotAllowed)
	require.ErrorIs(t, e.Kill(ctx, A), ErrUnsupported)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.Error(t, e.Up(ctx), "an unreachable pair must fail Up, not hang")
}
