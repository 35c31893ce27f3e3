// Command regify-verify verifies high-availability setups of the regify
// provider: a sticky HTTPS balancer, two providers and a master-master
// database pair, under load and under faults. It is a thin layer over the
// packages of this module; each sub-command lives in its own file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Exit codes shared by every sub-command.
const (
	exitOK      = 0 // all invariants passed (or the command succeeded)
	exitFailed  = 1 // an invariant failed
	exitInvalid = 2 // the run could not be judged: bad input, lab failed to start
)

// usageError marks bad input; it exits with exitInvalid.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// failedError marks a run whose invariants failed; it exits with exitFailed.
type failedError struct{ msg string }

func (e failedError) Error() string { return e.msg }

// command is one sub-command.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every sub-command gets: its streams and a logger.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	argv           []string // the full command line, for reproducibility blocks
}

func commands() map[string]command {
	return map[string]command{
		"run":      {"run scenarios in the built-in lab and write reports", cmdRun},
		"list":     {"list the scenario catalogue and the invariants", cmdList},
		"check":    {"judge a real deployment described by a deployment file", cmdCheck},
		"report":   {"re-render or re-judge the reports of an earlier run", cmdReport},
		"shrink":   {"find the smallest fault schedule of a failed run that still fails, and keep it as a scenario file", cmdShrink},
		"lab":      {"bring the lab up (lab up) or sweep it away (lab down)", cmdLab},
		"images":   {"build the container images the lab needs (images build)", cmdImages},
		"lb":       {"run the built-in sticky balancer standalone", cmdLB},
		"provider": {"run a fake regify provider standalone", cmdProvider},
		"clearing": {"run a fake clearing service standalone", cmdClearing},
		"agent":    {"run a share of a load for a coordinator (run --agents starts it)", cmdAgent},
		"agents":   {"print the Kubernetes manifest of agents that report to a coordinator (agents manifest)", cmdAgents},
	}
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	e := &env{
		stdin:  os.Stdin,
		stdout: stdout,
		stderr: stderr,
		log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()})),
		argv:   append([]string{"regify-verify"}, args...),
	}
	// testcontainers-go logs every container step to stderr; route it to
	// our log at debug level so a run's console stays readable.
	tclog.SetDefault(slogPrintf{e.log})
	// So does the MySQL driver, for every connection a killed or frozen
	// master drops ("[mysql] packets.go:58 unexpected EOF", hundreds a
	// catalogue): the same.
	_ = mysql.SetLogger(slogPrint{e.log})
	cmds := commands()
	if len(args) == 0 {
		usage(stderr, cmds)
		return exitInvalid
	}
	if isHelp(args[0]) {
		if len(args) == 1 {
			usage(stdout, cmds)
			return exitOK
		}
		// 'regify-verify help run' and 'regify-verify help lab up' are
		// 'regify-verify run --help' and 'regify-verify lab up --help'.
		args = append(append([]string{}, args[1:]...), "--help")
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "regify-verify: unknown command %q; run 'regify-verify --help' for the list\n", args[0])
		return exitInvalid
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, e, args[1:])
	return exitCode(stderr, args[0], err)
}

func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil {
		return exitOK
	}
	var fe failedError
	if errors.As(err, &fe) {
		fmt.Fprintf(stderr, "regify-verify %s: %s\n", name, fe.msg)
		return exitFailed
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "regify-verify %s: %v\n", name, err)
	return exitInvalid
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "regify-verify: prove (or refute) what the regify load-balancer guide demands.")
	fmt.Fprintln(w, "\nUsage: regify-verify <command> [flags]   (regify-verify <command> --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nExit codes: 0 all invariants passed, 1 an invariant failed, 2 the run could not be judged.")
}

// slogPrintf adapts slog to testcontainers-go's Printf logger.
type slogPrintf struct{ log *slog.Logger }

func (s slogPrintf) Printf(format string, v ...any) {
	s.log.Debug(fmt.Sprintf(format, v...), "component", "testcontainers")
}

// slogPrint adapts slog to the MySQL driver's Print logger.
type slogPrint struct{ log *slog.Logger }

func (s slogPrint) Print(v ...any) {
	s.log.Debug(strings.TrimSpace(fmt.Sprint(v...)), "component", "mysql-driver")
}

func logLevel() slog.Level {
	switch os.Getenv("REGIFY_VERIFY_LOG") {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
