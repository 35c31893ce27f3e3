package main

import (
	"context"
	"errors"
)

// cmdCheck is a placeholder until the command is wired to its package.
func cmdCheck(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("check: not implemented yet")}
}
