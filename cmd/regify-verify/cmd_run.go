package main

import (
	"context"
	"errors"
)

// cmdRun is a placeholder until the command is wired to its package.
func cmdRun(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("run: not implemented yet")}
}
