package main

import (
	"context"
	"errors"
)

// cmdImages is a placeholder until the command is wired to its package.
func cmdImages(ctx context.Context, e *env, args []string) error {
	return usageError{errors.New("images: not implemented yet")}
}
