package main

import (
	"context"
	"errors"
)

// cmdReport is a placeholder until the command is wired to its package.
func cmdReport(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("report: not implemented yet")}
}
