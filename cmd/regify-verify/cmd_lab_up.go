package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/regify-verify/regify-verify/harness"
)

// labUp brings the lab up, prints every endpoint and keeps it running until
// Ctrl-C, so an operator can point a browser, curl or their own tests at it.
func labUp(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "lab up", "lab up [--users N] [--database memory|pair] [--mode offload|passthrough] [--fixed-ports] [--ca FILE]")
	users := fs.Int("users", 16, "client addresses to plan (127.0.10.1 upwards)")
	database := fs.String("database", harness.DatabasePair, "memory (shared in-process store) or pair (MariaDB master-master)")
	mode := fs.String("mode", harness.ModeOffload, "offload (TLS ends at the balancer) or passthrough (TLS ends at the providers)")
	fixed := fs.Bool("fixed-ports", true, "listen on https :8443 and http :8080 of the public IPs (false: free ports)")
	backend := fs.String("db-backend", "", "docker, process, or empty: docker when an engine answers, else process")
	image := fs.String("mariadb-image", "", "MariaDB/MySQL image to use instead of building one")
	caFile := fs.String("ca", "", "write the lab's CA certificate here (default: <tmp>/regify-verify-lab-ca.pem)")
	if err := parse(fs, args); err != nil {
		return err
	}
	plan, err := harness.DefaultPlan(*users, *fixed)
	if err != nil {
		return usageError{err}
	}
	harness.PrepareEnv()
	lab, err := harness.Up(ctx, harness.Options{
		Plan: plan, Mode: *mode, Database: *database, Logger: e.log,
		DB: harness.PairOptions{Backend: *backend, Image: *image},
	})
	if err != nil {
		return fmt.Errorf("lab up: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := lab.Close(cctx); err != nil {
			e.log.Warn("lab down", "err", err)
		}
	}()
	if *caFile == "" {
		*caFile = filepath.Join(os.TempDir(), "regify-verify-lab-ca.pem")
	}
	if err := os.WriteFile(*caFile, lab.CAPEM(), 0o644); err != nil {
		return fmt.Errorf("write the lab's CA to %s: %w", *caFile, err)
	}
	printLab(e, lab, *caFile)
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "lab: shutting down")
	return nil
}

func printLab(e *env, lab *harness.Lab, caFile string) {
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "lab %s (%s, database %s) is up; Ctrl-C takes it down.\n\n", lab.RunID(), lab.Options().Mode, lab.Options().Database)
	fmt.Fprintln(tw, "NAME\tPUBLIC IP\tHTTPS\tHTTP")
	for _, ep := range lab.Endpoints() {
		fmt.Fprintf(tw, "%s\t%s\t%s (%s)\t%s (%s)\n", ep.Name, ep.PublicIP, ep.HTTPS, ep.HTTPSAt, ep.HTTP, ep.HTTPAt)
	}
	fmt.Fprintln(tw, "\nPROVIDER\tINTERNAL ADDRESSES")
	for id, m := range lab.Internal() {
		var parts []string
		for d, a := range m {
			parts = append(parts, d+"="+a)
		}
		fmt.Fprintf(tw, "%s\t%s\n", id, strings.Join(parts, " "))
	}
	fmt.Fprintf(tw, "\nclearing\t%s\n", strings.Join(lab.ClearingAddrs(), " "))
	if p := lab.Pair(); p != nil {
		for _, s := range []string{"a", "b"} {
			if addr, err := p.HostAddr(context.Background(), s); err == nil {
				fmt.Fprintf(tw, "MariaDB %s\t%s\n", strings.ToUpper(s), addr)
			}
		}
	}
	_ = tw.Flush()
	ep := lab.Endpoints()[0]
	fmt.Fprintf(e.stdout, "\nTry: curl --cacert %s --resolve %s:%s:%s %s\n", caFile, ep.Name, portOf(ep.HTTPSAt), ep.PublicIP, ep.HTTPS+"health")
}

func portOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return ""
	}
	return addr[i+1:]
}
