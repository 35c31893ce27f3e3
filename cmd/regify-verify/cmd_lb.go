package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regify-verify/regify-verify/lb"
)

// cmdLB runs the built-in sticky balancer standalone until SIGINT/SIGTERM.
func cmdLB(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "lb", "lb --config lb.yaml")
	config := fs.String("config", "", "balancer config file (YAML; see examples/lb/lb.yaml)")
	drain := fs.Duration("drain", 10*time.Second, "how long to let requests in flight finish on shutdown")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *config == "" {
		return usageError{errors.New("--config is required (see examples/lb/lb.yaml)")}
	}
	cfg, err := lb.LoadConfig(*config)
	if err != nil {
		return usageError{fmt.Errorf("%s: %w", *config, err)}
	}
	b, err := lb.New(cfg, e.log)
	if err != nil {
		return usageError{err}
	}
	if err := b.Start(ctx); err != nil {
		return usageError{err}
	}
	for i, a := range b.Addrs() {
		fmt.Fprintf(e.stdout, "lb: %s (%s) listening on %s\n", cfg.Listeners[i].Name, cfg.Listeners[i].Mode, a)
	}
	if a := b.AdminAddr(); a != nil {
		fmt.Fprintf(e.stdout, "lb: admin on http://%s/\n", a)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *drain)
	defer cancel()
	if err := b.Shutdown(sctx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	return nil
}
