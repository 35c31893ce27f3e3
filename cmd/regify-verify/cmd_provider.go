package main

import (
	"context"
	"errors"
)

// cmdProvider is a placeholder until the command is wired to its package.
func cmdProvider(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("provider: not implemented yet")}
}
