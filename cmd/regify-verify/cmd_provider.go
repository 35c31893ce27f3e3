package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/fakeprovider"
)

// repeatedFlag is a flag that may be given several times.
type repeatedFlag []string

func (s *repeatedFlag) String() string     { return strings.Join(*s, ",") }
func (s *repeatedFlag) Set(v string) error { *s = append(*s, v); return nil }

// stopGrace bounds a graceful stop after SIGINT/SIGTERM.
const stopGrace = 5 * time.Second

// cmdProvider runs a fake regify provider until SIGINT/SIGTERM.
func cmdProvider(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "provider", "provider --id p1 --listen ADDR[=DOMAIN] ... --domains abc.test,def.test [--store memory|mysql --dsn DSN] [--tls-dir DIR] [--clearing URL ...]")
	id := fs.String("id", "p1", "name of this provider, sent in X-Regify-Provider")
	var listens, clearing repeatedFlag
	fs.Var(&listens, "listen", "address to listen on, e.g. 127.0.2.1:9001 (repeatable); ADDR=DOMAIN names the domain whose certificate it serves with --tls-dir")
	domains := fs.String("domains", "abc.test,def.test", "comma-separated domains served: the main provider first, then sub-providers")
	storeKind := fs.String("store", "memory", "where sessions and messages live: memory or mysql")
	dsn := fs.String("dsn", "", "MySQL/MariaDB DSN for --store mysql, e.g. 'regify:secret@tcp(127.0.0.1:3306)/regify'")
	password := fs.String("password", fakeprovider.DefaultPassword, "every user's password")
	tlsDir := fs.String("tls-dir", "", "serve HTTPS (no SSL offloading): DIR holds DOMAIN.crt and DOMAIN.key for every domain")
	fs.Var(&clearing, "clearing", "base URL of a clearing service, e.g. http://127.0.3.1:9100 (repeatable, in order of preference)")
	clearingTimeout := fs.Duration("clearing-timeout", 2*time.Second, "time one clearing endpoint gets before failing over to the next")
	showSeen := fs.Bool("show-seen", true, "add the X-Regify-Seen header to every response")
	broken := fs.String("broken", "", "comma-separated deliberate faults: no-rotate, old-tokens-valid, no-provider-header, health-ignores-store")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: addresses are given with --listen", fs.Arg(0))}
	}
	if len(listens) == 0 {
		return usageError{errors.New("--listen is missing: give at least one address, e.g. --listen 127.0.2.1:9001")}
	}
	tenants := splitList(*domains)
	if len(tenants) == 0 {
		return usageError{errors.New("--domains is empty: give the served domains, e.g. --domains abc.test,def.test")}
	}
	binds, err := providerBinds(listens, tenants, *tlsDir != "")
	if err != nil {
		return err
	}
	cfg := fakeprovider.Config{
		ID: *id, Tenants: tenants, Password: *password, Clearing: clearing,
		ClearingTimeout: *clearingTimeout, ShowSeen: *showSeen, Logger: e.log,
	}
	if cfg.Broken, err = parseBroken(*broken); err != nil {
		return err
	}
	if *tlsDir != "" {
		if cfg.TLS, err = loadTenantCerts(*tlsDir, tenants); err != nil {
			return err
		}
	}
	switch *storeKind {
	case "memory":
		if *dsn != "" {
			return usageError{errors.New("--dsn is given but --store is memory: add --store mysql or drop --dsn")}
		}
		cfg.Store = fakeprovider.NewMemoryStore()
	case "mysql":
		if *dsn == "" {
			return usageError{errors.New("--store mysql needs --dsn, e.g. --dsn 'regify:secret@tcp(127.0.0.1:3306)/regify'")}
		}
		store, err := fakeprovider.NewMySQLStore(ctx, *dsn, e.log)
		if err != nil {
			return usageError{fmt.Errorf("--dsn: %w; check the address, user and password and that the server runs", err)}
		}
		defer store.Close()
		cfg.Store = store
	default:
		return usageError{fmt.Errorf("--store %q: want memory or mysql", *storeKind)}
	}
	p, err := fakeprovider.New(cfg)
	if err != nil {
		return usageError{err}
	}
	if err := p.Start(ctx, binds...); err != nil {
		return usageError{fmt.Errorf("%w; is the address free and assigned to this machine?", err)}
	}
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	for _, a := range p.Addrs() {
		fmt.Fprintf(e.stdout, "provider %s serving %s on %s://%s\n", *id, strings.Join(tenants, ","), scheme, a)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
	defer cancel()
	if err := p.Close(sctx); err != nil {
		return fmt.Errorf("stop provider %s: %w", *id, err)
	}
	fmt.Fprintf(e.stdout, "provider %s stopped\n", *id)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// providerBinds reads --listen ADDR[=DOMAIN]. With TLS every listener needs a
// domain: given explicitly, or by position when there are as many listeners
// as domains (the seed's one internal IP per domain).
func providerBinds(listens, tenants []string, tlsOn bool) ([]fakeprovider.Bind, error) {
	known := map[string]bool{}
	for _, t := range tenants {
		known[strings.ToLower(t)] = true
	}
	binds := make([]fakeprovider.Bind, 0, len(listens))
	for i, l := range listens {
		addr, tenant, _ := strings.Cut(l, "=")
		if addr == "" {
			return nil, usageError{fmt.Errorf("--listen %q: no address; use HOST:PORT or HOST:PORT=DOMAIN", l)}
		}
		if tenant != "" && !known[strings.ToLower(tenant)] {
			return nil, usageError{fmt.Errorf("--listen %q: domain %q is not in --domains %s", l, tenant, strings.Join(tenants, ","))}
		}
		if tenant == "" && tlsOn {
			if len(listens) != len(tenants) {
				return nil, usageError{fmt.Errorf("--listen %q: with --tls-dir say whose certificate it serves, e.g. --listen %s=%s", l, addr, tenants[0])}
			}
			tenant = tenants[i]
		}
		binds = append(binds, fakeprovider.Bind{Addr: addr, Tenant: tenant})
	}
	return binds, nil
}

func parseBroken(s string) (fakeprovider.Broken, error) {
	var b fakeprovider.Broken
	for _, f := range splitList(s) {
		switch f {
		case "no-rotate":
			b.NoRotate = true
		case "old-tokens-valid":
			b.OldTokensValid = true
		case "no-provider-header":
			b.NoProviderHeader = true
		case "health-ignores-store":
			b.HealthIgnoresStore = true
		default:
			return b, usageError{fmt.Errorf("--broken %q: want no-rotate, old-tokens-valid, no-provider-header or health-ignores-store", f)}
		}
	}
	return b, nil
}

func loadTenantCerts(dir string, tenants []string) (map[string]tls.Certificate, error) {
	out := map[string]tls.Certificate{}
	for _, t := range tenants {
		crt, key := filepath.Join(dir, t+".crt"), filepath.Join(dir, t+".key")
		cert, err := tls.LoadX509KeyPair(crt, key)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, usageError{fmt.Errorf("--tls-dir %s: %s needs %s.crt and %s.key there: %w", dir, t, t, t, err)}
			}
			return nil, usageError{fmt.Errorf("--tls-dir %s: load the certificate of %s: %w", dir, t, err)}
		}
		out[strings.ToLower(t)] = cert
	}
	return out, nil
}
