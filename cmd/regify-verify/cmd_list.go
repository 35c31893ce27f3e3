package main

import (
	"context"
	"errors"
)

// cmdList is a placeholder until the command is wired to its package.
func cmdList(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("list: not implemented yet")}
}
