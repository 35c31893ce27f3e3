package main

import (
	"context"
	"errors"
	"fmt"
)

// cmdLab dispatches 'lab up' (cmd_lab_up.go) and 'lab down' (cmd_lab_down.go).
func cmdLab(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New("lab: want 'lab up' or 'lab down [--all]'")}
	}
	switch args[0] {
	case "up":
		return labUp(ctx, e, args[1:])
	case "down":
		return labDown(ctx, e, args[1:])
	}
	return usageError{fmt.Errorf("lab: unknown sub-command %q (want up or down)", args[0])}
}
