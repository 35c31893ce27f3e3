package main

import (
	"context"
	"errors"
)

// cmdLB is a placeholder until the command is wired to its package.
func cmdLB(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("lb: not implemented yet")}
}
