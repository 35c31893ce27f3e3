package harness

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/regify-verify/regify-verify/harness/cleanup"
	"github.com/regify-verify/regify-verify/harness/mariadb"
)

// newProcessPair is the pair of two local mariadbd processes, for machines
// without Docker. Its temp dir carries a run id, so a sweep finds what a
// killed run left behind.
func newProcessPair(cfg mariadb.Config, host string, log *slog.Logger) (mariadb.Pair, error) {
	run, err := cleanup.NewRun()
	if err != nil {
		return nil, err
	}
	p, err := mariadb.NewProcess(mariadb.ProcessOptions{Config: cfg, Run: run, Log: log, Host: host})
	if err != nil {
		_ = run.Close(context.Background())
		return nil, fmt.Errorf("mariadb pair: %w", err)
	}
	return p, nil
}
