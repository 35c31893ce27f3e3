package main

import (
	"context"
	"fmt"
	"io"
)

// labUsage is the usage of the 'lab' command group.
func labUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: regify-verify lab <up|down> [flags]   (regify-verify lab <up|down> --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	fmt.Fprintln(w, "  up        bring the lab up, print every endpoint, keep it running until Ctrl-C")
	fmt.Fprintln(w, "  down      sweep what runs left behind (--all: also what live runs hold)")
}

// cmdLab dispatches 'lab up' (cmd_lab_up.go) and 'lab down' (cmd_lab_down.go).
func cmdLab(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		labUsage(e.stderr)
		return usageError{fmt.Errorf("lab: want 'lab up' or 'lab down [--all]'")}
	}
	if isHelp(args[0]) {
		labUsage(e.stdout)
		return errHelp
	}
	switch args[0] {
	case "up":
		return labUp(ctx, e, args[1:])
	case "down":
		return labDown(ctx, e, args[1:])
	}
	return usageError{fmt.Errorf("lab: unknown sub-command %q (want up or down; see 'regify-verify lab --help')", args[0])}
}
