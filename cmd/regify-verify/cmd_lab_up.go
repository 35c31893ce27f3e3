package main

import (
	"context"
	"errors"
)

// labUp brings the lab up.
// TODO(lead): wire harness.Lab here (flags, mariadb.PrepareEnv first, then
// Lab.Up; on exit Lab.Close; --mariadb-image passes images.MariaDBOptions.Image).
func labUp(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("lab up: not implemented yet")}
}
