package main

import (
	"context"
	"errors"
)

// cmdClearing is a placeholder until the command is wired to its package.
func cmdClearing(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("clearing: not implemented yet")}
}
