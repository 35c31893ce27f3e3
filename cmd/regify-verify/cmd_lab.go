package main

import (
	"context"
	"errors"
)

// cmdLab is a placeholder until the command is wired to its package.
func cmdLab(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("lab: not implemented yet")}
}
