package deploy

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"go.yaml.in/yaml/v3"
)

// Keys of each section, in the order the example file uses.
var (
	topKeys      = []string{"name", "mode", "domains", "tls", "clients", "session", "provider_header", "backend", "load", "database", "faults", "stop", "bounds", "require"}
	domainKeys   = []string{"name", "https", "http", "address"}
	tlsKeys      = []string{"ca_file", "min_validity"}
	clientKeys   = []string{"source_ips"}
	loadKeys     = []string{"users", "rate", "duration", "timeout"}
	databaseKeys = []string{"a", "b", "tables", "max_lag"}
	faultKeys    = []string{"name", "inject", "recover", "provider", "hold", "timeout"}
	stopKeys     = []string{"max_error_rate", "window", "min_requests"}
	boundsKeys   = []string{"max_stall", "failback"}
)

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	hostRE  = regexp.MustCompile(`^(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?))*\.?$`)
	tableRE = regexp.MustCompile(`^[A-Za-z0-9_$]{1,64}(\.[A-Za-z0-9_$]{1,64})?$`)
	envRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Load reads and validates the deployment file at path.
func Load(path string) (*Deployment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the deployment file: %v", errors.Unwrap(err))}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the deployment file: %v", err)}
	}
	return Parse(data, path)
}

// Parse validates a deployment file's content. file names it in errors and
// anchors relative paths (tls.ca_file); "" means the current directory.
// Every error is an *Error naming the key and line.
func Parse(data []byte, file string) (d *Deployment, err error) {
	w := &walker{file: file}
	if len(data) > MaxFileSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %d bytes: this is not a deployment file", MaxFileSize)}
	}
	// The parser must never take the command down: a panic deep in a YAML
	// library on hostile input becomes one more clear error.
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, &Error{File: file, Msg: fmt.Sprintf("malformed YAML (%v)", r)}
		}
	}()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the file is empty; see examples/deployment.yaml"}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, w.errf(&extra, "", "a second YAML document (---): put one deployment in a file")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	dir := "."
	if file != "" {
		dir = filepath.Dir(file)
	}
	p := parser{w: w, dir: dir, d: &Deployment{File: file}}
	if err := p.top(root); err != nil {
		return nil, err
	}
	return p.d, nil
}

// yamlError turns a YAML syntax error ("yaml: line 3: ...") into an *Error.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if _, serr := fmt.Sscanf(n, "%d", &line); serr == nil {
				msg = strings.TrimSpace(tail)
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "not valid YAML: " + msg}
}

type parser struct {
	w   *walker
	dir string
	d   *Deployment
}

func (p *parser) top(root *yaml.Node) error {
	w := p.w
	m, err := w.mapping(root, "", topKeys...)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Key == "" {
			e.Msg = "the file must be a mapping with the keys name, domains, tls, clients …; see examples/deployment.yaml"
		}
		return err
	}
	f, err := w.require(m, root, "", "name", "name the deployment, e.g. name: staging")
	if err != nil {
		return err
	}
	if p.d.Name, err = w.str(f, "name"); err != nil {
		return err
	}
	if !nameRE.MatchString(p.d.Name) {
		return w.errf(f.val, "name", "%q: use 1-64 letters, digits, '.', '_' or '-'", clip(p.d.Name))
	}
	p.d.Mode = ModeOffload
	if present(m, "mode") {
		v, err := w.str(m["mode"], "mode")
		if err != nil {
			return err
		}
		if v != ModeOffload && v != ModePassthrough {
			return w.errf(m["mode"].val, "mode", "%q: want offload (TLS ends at the balancer) or passthrough (the providers terminate TLS)", clip(v))
		}
		p.d.Mode = v
	}
	if f, err = w.require(m, root, "", "domains", "list the public names (name, https, http, address)"); err != nil {
		return err
	}
	if err := p.domains(f); err != nil {
		return err
	}
	if err := p.tls(m); err != nil {
		return err
	}
	if f, err = w.require(m, root, "", "clients", "give clients.source_ips: the local addresses to send from"); err != nil {
		return err
	}
	if err := p.clients(f); err != nil {
		return err
	}
	if err := p.session(m); err != nil {
		return err
	}
	if err := p.backend(m); err != nil {
		return err
	}
	if err := p.load(m); err != nil {
		return err
	}
	if present(m, "database") {
		if err := p.database(m["database"]); err != nil {
			return err
		}
	}
	if present(m, "faults") {
		if err := p.faults(m["faults"]); err != nil {
			return err
		}
	}
	if err := p.stop(m); err != nil {
		return err
	}
	if err := p.bounds(m); err != nil {
		return err
	}
	return p.require(m)
}

// require reads the invariants that must be judged: a run where one of
// them was skipped is incomplete, never a pass. Without the key: the
// defaults (DefaultRequire, plus replication with a database section).
func (p *parser) require(m map[string]field) error {
	w := p.w
	if !present(m, "require") {
		p.d.Require = DefaultRequire(p.d.Database != nil)
		return nil
	}
	items, err := w.list(m["require"], "require", false)
	if err != nil {
		return err
	}
	p.d.Require = []string{}
	for i, n := range items {
		path := fmt.Sprintf("require[%d]", i)
		name, err := w.str(field{key: m["require"].key, val: n}, path)
		if err != nil {
			return err
		}
		spec, ok := check.Lookup(name)
		if !ok {
			return w.errf(n, path, "%q is not an invariant; known: %s", clip(name), strings.Join(check.Names(), ", "))
		}
		if spec.Deployment == check.LabOnly {
			return w.errf(n, path, "%s is judged in the lab only, never in a deployment run", name)
		}
		if !slices.Contains(p.d.Require, name) {
			p.d.Require = append(p.d.Require, name)
		}
	}
	return nil
}

// bounds reads how strictly the run is judged: the wait past which a
// request counts as disrupted, and whether a fail-back is allowed.
func (p *parser) bounds(m map[string]field) error {
	w := p.w
	b := JudgeBounds{MaxStall: DefaultMaxStall, Failback: check.FailbackForbid}
	defer func() { p.d.Bounds = b }()
	if !present(m, "bounds") {
		return nil
	}
	sec, err := w.mapping(m["bounds"].val, "bounds", boundsKeys...)
	if err != nil {
		return err
	}
	if present(sec, "max_stall") {
		if b.MaxStall, err = w.duration(sec["max_stall"], "bounds.max_stall", 100*time.Millisecond, time.Minute); err != nil {
			return err
		}
	}
	if present(sec, "failback") {
		v, err := w.str(sec["failback"], "bounds.failback")
		if err != nil {
			return err
		}
		if v != check.FailbackForbid && v != check.FailbackAllow {
			return w.errf(sec["failback"].val, "bounds.failback", "%q: want forbid (a client returning to its recovered provider fails stickiness: it loses its session again) or allow", clip(v))
		}
		b.Failback = v
	}
	return nil
}

func (p *parser) domains(f field) error {
	w := p.w
	items, err := w.list(f, "domains", false)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return w.errf(line(f), "domains", "the list is empty; give at least the main provider's name")
	}
	if len(items) > 16 {
		return w.errf(line(f), "domains", "%d names: at most 16 are supported", len(items))
	}
	seen := map[string]int{}
	for i, n := range items {
		path := fmt.Sprintf("domains[%d]", i)
		m, err := w.mapping(n, path, domainKeys...)
		if err != nil {
			return err
		}
		var d Domain
		nf, err := w.require(m, n, path, "name", "the public name, e.g. abc.test")
		if err != nil {
			return err
		}
		if d.Name, err = w.str(nf, path+".name"); err != nil {
			return err
		}
		d.Name = strings.ToLower(strings.TrimSuffix(d.Name, "."))
		if !hostRE.MatchString(d.Name) || len(d.Name) > 253 {
			return w.errf(nf.val, path+".name", "%q is not a DNS name", clip(d.Name))
		}
		if first, dup := seen[d.Name]; dup {
			return w.errf(nf.val, path+".name", "%s is listed twice (first at line %d)", d.Name, first)
		}
		seen[d.Name] = nf.val.Line
		hf, err := w.require(m, n, path, "https", "the https base URL, e.g. https://"+d.Name+":443/")
		if err != nil {
			return err
		}
		if d.HTTPS, err = p.baseURL(hf, path+".https", "https", d.Name); err != nil {
			return err
		}
		if present(m, "http") {
			if d.HTTP, err = p.baseURL(m["http"], path+".http", "http", d.Name); err != nil {
				return err
			}
		}
		if present(m, "address") {
			af := m["address"]
			s, err := w.str(af, path+".address")
			if err != nil {
				return err
			}
			if d.Address, err = netip.ParseAddr(s); err != nil || d.Address.Zone() != "" {
				return w.errf(af.val, path+".address", "%q is not an IP address (give the public IP only, no port or name)", clip(s))
			}
		}
		p.d.Domains = append(p.d.Domains, d)
	}
	return nil
}

// baseURL checks a base URL: the scheme, a host equal to the domain's name
// (Host and SNI are the name; address decides where to connect), no user
// info, query or fragment.
func (p *parser) baseURL(f field, path, scheme, name string) (string, error) {
	w := p.w
	s, err := w.str(f, path)
	if err != nil {
		return "", err
	}
	u, perr := url.Parse(s)
	if perr != nil {
		return "", w.errf(f.val, path, "%q is not a URL: %v", clip(s), errors.Unwrap(perr))
	}
	switch {
	case u.Scheme != scheme:
		return "", w.errf(f.val, path, "%q: want a %s:// URL", clip(s), scheme)
	case u.Host == "":
		return "", w.errf(f.val, path, "%q has no host: want %s://%s/", clip(s), scheme, name)
	case u.User != nil:
		return "", w.errf(f.val, path, "user info in the URL is not allowed (it would be printed)")
	case u.RawQuery != "" || u.Fragment != "" || strings.Contains(s, "#"):
		return "", w.errf(f.val, path, "%q: a base URL has no query or fragment", clip(s))
	case !strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), name):
		return "", w.errf(f.val, path, "host %q is not the domain's name %q: the harness sends the name as Host and SNI; put the IP under address", clip(u.Hostname()), name)
	}
	if port := u.Port(); port != "" {
		var n int
		if _, err := fmt.Sscanf(port, "%d", &n); err != nil || n < 1 || n > 65535 {
			return "", w.errf(f.val, path, "port %q is out of range 1-65535", clip(port))
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}

func (p *parser) tls(m map[string]field) error {
	w := p.w
	p.d.TLS.MinValidity = DefaultMinValidity
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	p.d.TLS.Roots = roots
	if !present(m, "tls") {
		return nil
	}
	sec, err := w.mapping(m["tls"].val, "tls", tlsKeys...)
	if err != nil {
		return err
	}
	if present(sec, "min_validity") {
		if p.d.TLS.MinValidity, err = w.duration(sec["min_validity"], "tls.min_validity", 0, 10*365*24*time.Hour); err != nil {
			return err
		}
	}
	if !present(sec, "ca_file") {
		return nil
	}
	f := sec["ca_file"]
	name, err := w.str(f, "tls.ca_file")
	if err != nil {
		return err
	}
	p.d.TLS.CAFile = name
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	data, rerr := readSmall(path, 4<<20)
	if rerr != nil {
		return w.errf(f.val, "tls.ca_file", "cannot read %s: %v", path, rerr)
	}
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, cerr := x509.ParseCertificate(b.Bytes)
		if cerr != nil {
			return w.errf(f.val, "tls.ca_file", "%s: certificate %d does not parse: %v", path, n+1, cerr)
		}
		roots.AddCert(c)
		p.d.TLS.CAPEM = append(p.d.TLS.CAPEM, pem.EncodeToMemory(b)...)
		n++
	}
	if n == 0 {
		return w.errf(f.val, "tls.ca_file", "%s holds no PEM certificate (want -----BEGIN CERTIFICATE-----)", path)
	}
	return nil
}

func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, errors.New("it is a directory")
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

func (p *parser) clients(f field) error {
	w := p.w
	sec, err := w.mapping(f.val, "clients", clientKeys...)
	if err != nil {
		return err
	}
	sf, err := w.require(sec, f.val, "clients", "source_ips", "e.g. 127.0.10.1-127.0.10.32, a CIDR or a list")
	if err != nil {
		return err
	}
	items, err := w.list(sf, "clients.source_ips", true)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return w.errf(line(sf), "clients.source_ips", "the list is empty; give one local address per simulated user")
	}
	var specs []string
	seen := map[netip.Addr]bool{}
	for i, n := range items {
		path := "clients.source_ips"
		if sf.val.Kind == yaml.SequenceNode {
			path = fmt.Sprintf("clients.source_ips[%d]", i)
		}
		s, err := w.str(field{key: sf.key, val: n}, path)
		if err != nil {
			return err
		}
		addrs, perr := parseAddrSpec(s, MaxSourceIPs-len(p.d.Clients.SourceIPs))
		if perr != nil {
			return w.errf(n, path, "%v", perr)
		}
		for _, a := range addrs {
			if seen[a] {
				return w.errf(n, path, "%s is listed twice", a)
			}
			seen[a] = true
		}
		p.d.Clients.SourceIPs = append(p.d.Clients.SourceIPs, addrs...)
		specs = append(specs, s)
	}
	fam := p.d.Clients.SourceIPs[0].Is4()
	for _, a := range p.d.Clients.SourceIPs {
		if a.Is4() != fam {
			return w.errf(sf.val, "clients.source_ips", "mixes IPv4 and IPv6 addresses; use one family")
		}
	}
	p.d.Clients.Spec = strings.Join(specs, ", ")
	return nil
}

func (p *parser) load(m map[string]field) error {
	w := p.w
	l := LoadProfile{Users: defaultUsers(len(p.d.Clients.SourceIPs), len(p.d.Domains)), Rate: DefaultRate, Duration: DefaultDuration, Timeout: DefaultTimeout}
	defer func() { p.d.Load = l }()
	if !present(m, "load") {
		return nil
	}
	sec, err := w.mapping(m["load"].val, "load", loadKeys...)
	if err != nil {
		return err
	}
	if present(sec, "users") {
		if l.Users, err = w.integer(sec["users"], "load.users", 1, len(p.d.Clients.SourceIPs)); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Msg += fmt.Sprintf(" (one user per source IP; clients.source_ips has %d)", len(p.d.Clients.SourceIPs))
			}
			return err
		}
	}
	if present(sec, "rate") {
		if l.Rate, err = w.integer(sec["rate"], "load.rate", 0, 100000); err != nil {
			return err
		}
	}
	if present(sec, "duration") {
		if l.Duration, err = w.duration(sec["duration"], "load.duration", time.Second, 24*time.Hour); err != nil {
			return err
		}
	}
	if present(sec, "timeout") {
		if l.Timeout, err = w.duration(sec["timeout"], "load.timeout", 100*time.Millisecond, 5*time.Minute); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) database(f field) error {
	w := p.w
	sec, err := w.mapping(f.val, "database", databaseKeys...)
	if err != nil {
		return err
	}
	db := &Database{MaxLag: DefaultMaxLag}
	for _, side := range []struct {
		key string
		dst *string
	}{{"a", &db.A}, {"b", &db.B}} {
		sf, err := w.require(sec, f.val, "database", side.key, "the go-sql-driver DSN of master "+side.key+", e.g. user:pass@tcp(10.10.10.1:3306)/regify")
		if err != nil {
			return err
		}
		if sf.val.Kind != yaml.ScalarNode || strings.TrimSpace(sf.val.Value) == "" {
			return w.errf(line(sf), "database."+side.key, "want a DSN as text")
		}
		dsn := strings.TrimSpace(sf.val.Value)
		// Errors never quote the DSN: it carries a password.
		cfg, perr := mysql.ParseDSN(dsn)
		if perr != nil {
			return w.errf(sf.val, "database."+side.key, "not a valid DSN (%s); want user:password@tcp(host:3306)/database", dsnSecretFree(dsn, perr.Error()))
		}
		if cfg.DBName == "" {
			return w.errf(sf.val, "database."+side.key, "the DSN names no database; want user:password@tcp(host:3306)/database")
		}
		if cfg.Net != "tcp" && cfg.Net != "unix" {
			return w.errf(sf.val, "database."+side.key, "network %q: want tcp(host:port) or unix(/path)", clip(cfg.Net))
		}
		*side.dst = dsn
	}
	if db.A == db.B {
		return w.errf(sec["b"].val, "database.b", "is the same DSN as database.a: give both masters of the pair")
	}
	if present(sec, "tables") {
		items, err := w.list(sec["tables"], "database.tables", false)
		if err != nil {
			return err
		}
		for i, n := range items {
			path := fmt.Sprintf("database.tables[%d]", i)
			t, err := w.str(field{key: sec["tables"].key, val: n}, path)
			if err != nil {
				return err
			}
			if !tableRE.MatchString(t) {
				return w.errf(n, path, "%q is not a table name (letters, digits, _ and $, optionally schema.table)", clip(t))
			}
			db.Tables = append(db.Tables, t)
		}
	}
	if present(sec, "max_lag") {
		if db.MaxLag, err = w.duration(sec["max_lag"], "database.max_lag", time.Millisecond, 10*time.Minute); err != nil {
			return err
		}
	}
	p.d.Database = db
	return nil
}

func (p *parser) faults(f field) error {
	w := p.w
	items, err := w.list(f, "faults", false)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for i, n := range items {
		path := fmt.Sprintf("faults[%d]", i)
		m, err := w.mapping(n, path, faultKeys...)
		if err != nil {
			return err
		}
		h := FaultHook{Hold: DefaultHold, Timeout: DefaultHookTimeout}
		nf, err := w.require(m, n, path, "name", "name the fault, e.g. stop-provider-1")
		if err != nil {
			return err
		}
		if h.Name, err = w.str(nf, path+".name"); err != nil {
			return err
		}
		if !nameRE.MatchString(h.Name) {
			return w.errf(nf.val, path+".name", "%q: use 1-64 letters, digits, '.', '_' or '-'", clip(h.Name))
		}
		if first, dup := seen[h.Name]; dup {
			return w.errf(nf.val, path+".name", "fault %s is defined twice (first at line %d)", h.Name, first)
		}
		seen[h.Name] = nf.val.Line
		inj, err := w.require(m, n, path, "inject", "the shell command that injects the fault")
		if err != nil {
			return err
		}
		if h.Inject, err = w.str(inj, path+".inject"); err != nil {
			return err
		}
		rec, err := w.require(m, n, path, "recover", "the shell command that undoes the fault; a fault without one is never run")
		if err != nil {
			return err
		}
		if h.Recover, err = w.str(rec, path+".recover"); err != nil {
			return err
		}
		if present(m, "provider") {
			if h.Provider, err = w.str(m["provider"], path+".provider"); err != nil {
				return err
			}
		}
		if present(m, "hold") {
			if h.Hold, err = w.duration(m["hold"], path+".hold", time.Second, time.Hour); err != nil {
				return err
			}
		}
		if present(m, "timeout") {
			if h.Timeout, err = w.duration(m["timeout"], path+".timeout", time.Second, 30*time.Minute); err != nil {
				return err
			}
		}
		p.d.Faults = append(p.d.Faults, h)
	}
	return nil
}

func (p *parser) stop(m map[string]field) error {
	w := p.w
	s := StopCondition{MaxErrorRate: DefaultMaxErrorRate, Window: DefaultStopWindow, MinRequests: DefaultMinRequests}
	defer func() { p.d.Stop = s }()
	if !present(m, "stop") {
		return nil
	}
	sec, err := w.mapping(m["stop"].val, "stop", stopKeys...)
	if err != nil {
		return err
	}
	if present(sec, "max_error_rate") {
		if s.MaxErrorRate, err = w.fraction(sec["max_error_rate"], "stop.max_error_rate"); err != nil {
			return err
		}
	}
	if present(sec, "window") {
		if s.Window, err = w.duration(sec["window"], "stop.window", 500*time.Millisecond, 10*time.Minute); err != nil {
			return err
		}
	}
	if present(sec, "min_requests") {
		if s.MinRequests, err = w.integer(sec["min_requests"], "stop.min_requests", 1, 1000000); err != nil {
			return err
		}
	}
	return nil
}

// dsnSecretFree removes what may be the password of a DSN that did not
// parse (the text between the first ':' and the last '@') from msg.
func dsnSecretFree(dsn, msg string) string {
	at := strings.LastIndexByte(dsn, '@')
	colon := strings.IndexByte(dsn, ':')
	if at > 0 && colon >= 0 && colon < at {
		if pw := dsn[colon+1 : at]; pw != "" {
			msg = strings.ReplaceAll(msg, pw, "***")
		}
	}
	return msg
}

// defaultUsers picks the number of users when the file does not: at most
// DefaultUsers and one per source IP, preferring a count that gives every
// domain an odd number of users. The load serves its users in a fixed
// rotation; with an even number per domain, round robin over two providers
// would hand each user the same provider every time and hide itself.
func defaultUsers(ips, domains int) int {
	limit := min(DefaultUsers, ips)
	if domains < 1 {
		return limit
	}
	for u := limit; u >= domains; u-- {
		if oddPerDomain(u, domains) {
			return u
		}
	}
	return limit
}

// oddPerDomain reports whether users spread over domains (user i belongs
// to domain i % domains) gives every domain an odd number of users.
func oddPerDomain(users, domains int) bool {
	for i := range domains {
		n := users / domains
		if i < users%domains {
			n++
		}
		if n%2 == 0 {
			return false
		}
	}
	return true
}
