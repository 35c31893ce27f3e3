package harness

import (
	"errors"
	"log/slog"

	"github.com/regify-verify/regify-verify/harness/mariadb"
)

// newProcessPair is the pair of two local mariadbd processes.
func newProcessPair(cfg mariadb.Config, log *slog.Logger) (mariadb.Pair, error) {
	return nil, errors.New("the process backend is not available in this build; use --db-backend docker")
}
