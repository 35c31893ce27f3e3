package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/regify-verify/regify-verify/fakeprovider"
)

// cmdClearing runs a fake clearing service until SIGINT/SIGTERM.
func cmdClearing(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "clearing", "clearing --listen ADDR [--listen ADDR ...] [--id c1]")
	id := fs.String("id", "c1", "name of this clearing service, recorded with every transaction")
	var listens repeatedFlag
	fs.Var(&listens, "listen", "address to listen on, e.g. 127.0.3.1:9100 (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: addresses are given with --listen", fs.Arg(0))}
	}
	if len(listens) == 0 {
		return usageError{errors.New("--listen is missing: give an address, e.g. --listen 127.0.3.1:9100")}
	}
	c := fakeprovider.NewClearing(*id, e.log)
	if err := c.Start(ctx, listens...); err != nil {
		return usageError{fmt.Errorf("%w; is the address free and assigned to this machine?", err)}
	}
	for _, a := range c.Addrs() {
		fmt.Fprintf(e.stdout, "clearing %s listening on http://%s (POST /clear, GET /transactions)\n", *id, a)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
	defer cancel()
	if err := c.Close(sctx); err != nil {
		return fmt.Errorf("stop clearing %s: %w", *id, err)
	}
	counts := c.Counts()
	twice := 0
	for _, n := range counts {
		if n > 1 {
			twice++
		}
	}
	fmt.Fprintf(e.stdout, "clearing %s stopped: %d transactions, %d messages, %d cleared more than once\n",
		*id, len(c.Transactions()), len(counts), twice)
	return nil
}
