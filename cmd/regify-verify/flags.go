package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// errHelp is returned when a sub-command printed its --help.
var errHelp = errors.New("help shown")

// newFlags makes a FlagSet for a sub-command that reports errors instead of
// exiting, so every bad flag ends with exit code 2 and one clear message.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: regify-verify %s\n\nFlags:\n", synopsis)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// isHelp reports whether arg asks for help: -h, --help, -help or help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "--help", "-help", "help":
		return true
	}
	return false
}

// parse parses args and turns flag errors into usage errors. A leading
// "help" (as in 'regify-verify run help') prints the usage like --help.
func parse(fs *flag.FlagSet, args []string) error {
	if len(args) > 0 && args[0] == "help" {
		fs.Usage()
		return errHelp
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// the flag package has already printed the usage
			return errHelp
		}
		return usageError{fmt.Errorf("%w (see 'regify-verify %s --help')", err, fs.Name())}
	}
	return nil
}
