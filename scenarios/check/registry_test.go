package check

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistryIsWellFormed(t *testing.T) {
	specs := Specs()
	require.NotEmpty(t, specs)
	seen := map[string]bool{}
	ranks := map[int]string{}
	for _, s := range specs {
		t.Run(s.Name, func(t *testing.T) {
			require.NotEmpty(t, s.Name)
			assert.False(t, seen[s.Name], "registered twice")
			seen[s.Name] = true
			assert.Empty(t, ranks[s.Rank], "rank %d shared with %s", s.Rank, ranks[s.Rank])
			ranks[s.Rank] = s.Name
			assert.NotEmpty(t, s.Summary)
			if s.Lab {
				assert.NotEmpty(t, s.Negative, "a lab invariant needs a negative control: a checker that cannot fail proves nothing")
			}
			got, ok := Lookup(s.Name)
			require.True(t, ok)
			assert.Equal(t, s.Name, got.Name)
			if s.Needs.Has(NeedsRunProbe) {
				assert.Nil(t, s.New, "decided during the run: nothing to build")
				return
			}
			require.NotNil(t, s.New)
			assert.Equal(t, s.Name, s.New(DefaultBounds()).Name())
		})
	}
	_, ok := Lookup("no-such-invariant")
	assert.False(t, ok)
}

func TestRegisterPanicsOnDuplicateOrEmptyName(t *testing.T) {
	assert.PanicsWithValue(t, `check: invariant "tls" registered twice`, func() { register(Spec{Name: NameTLS}) })
	assert.Panics(t, func() { register(Spec{}) })
}

func TestSpecsAreCopies(t *testing.T) {
	s := Specs()
	s[0].Negative[0] = "changed"
	s[0].Name = "changed"
	assert.Equal(t, NameStickiness, Specs()[0].Name)
	assert.NotEqual(t, "changed", Specs()[0].Negative[0])
}

// labBounds are bounds like scenarios.LabBounds, with every knob set so
// that a bound lost on the way to its invariant shows.
func labBounds() Bounds {
	b := DefaultBounds()
	b.MaxRecovery = 2500 * time.Millisecond
	b.FailoverBudget = 150
	b.ConsecutiveOK = 3
	b.MaxLossesPerFault = 2
	b.MaxLag = 2 * time.Second
	b.MaxConvergeWait = 20 * time.Second
	b.WriteSides = []string{"a"}
	b.ReplicaSides = []string{"b"}
	return b
}

// TestAllIsPinned pins the lab's invariants, their order and their bounds
// to what they were before the registry: verdicts and report.json must not
// change. An invariant added since may appear anywhere among them.
func TestAllIsPinned(t *testing.T) {
	b := labBounds()
	http := []Invariant{
		Stickiness{Grace: b.Grace},
		SessionContinuity{Grace: b.Grace, MaxLossesPerFault: b.MaxLossesPerFault, MaxLossesPerUser: b.MaxLossesPerUser},
		Redirect{},
		TLS{},
		ForwardedHeaders{},
		Failover{MaxRecovery: b.MaxRecovery, Budget: b.FailoverBudget, ConsecutiveOK: b.ConsecutiveOK, Stall: b.MaxStall},
		CookieIsolation{},
	}
	db := []Invariant{
		ReplicationLag{Max: b.MaxLag, Grace: b.LagGrace},
		ReplicationConvergence{MaxWait: b.MaxConvergeWait},
		NoLostWrites{Sides: b.WriteSides},
		AutoIncrement{},
		ReplicationHealth{Sides: b.ReplicaSides},
		Clearing{},
	}
	assert.Equal(t, http, pinned(HTTP(b), http))
	assert.Equal(t, db, pinned(Database(b), db))
	assert.Equal(t, append(slices.Clone(http), db...), pinned(All(b), append(slices.Clone(http), db...)))
}

// TestNamesIsReportOrder pins the report's column order: the lab's
// invariants as reports listed them before the registry, then target
// mode's own; invariants added since may appear anywhere among them.
func TestNamesIsReportOrder(t *testing.T) {
	want := []string{
		"stickiness", "session-continuity", "redirect", "tls", "forwarded-headers",
		"failover", "replication-lag", "replication-convergence", "no-lost-writes",
		"auto-increment", "replication-health", "cookie-isolation", "clearing",
		"reachability", "stop-condition",
	}
	assert.Equal(t, want, slices.DeleteFunc(Names(), func(n string) bool { return !slices.Contains(want, n) }))
}

// pinned keeps the invariants of got that want holds, in got's order.
func pinned(got, want []Invariant) []Invariant {
	return slices.DeleteFunc(slices.Clone(got), func(inv Invariant) bool {
		return !slices.ContainsFunc(want, func(w Invariant) bool { return w.Name() == inv.Name() })
	})
}

func TestBuild(t *testing.T) {
	b := labBounds()
	cases := []struct {
		name  string
		names []string
		want  []string
	}{
		{"all buildable in report order", nil, []string{
			NameStickiness, NameSessionContinuity, NameRedirect, NameTLS, NameForwardedHeaders, NameFailover,
			NameReplicationLag, NameReplicationConvergence, NameNoLostWrites, NameAutoIncrement,
			NameReplicationHealth, NameCookieIsolation, NameClearing, NameReachability,
		}},
		{"named, in report order", []string{NameClearing, NameTLS}, []string{NameTLS, NameClearing}},
		{"decided during the run and unknown names are left out", []string{NameStopCondition, "nope", NameRedirect}, []string{NameRedirect}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := names(Build(b, tc.names...))
			assert.Equal(t, tc.want, slices.DeleteFunc(got, func(n string) bool { return !slices.Contains(tc.want, n) }))
		})
	}
	assert.Contains(t, Build(b, NameFailover), Failover{MaxRecovery: b.MaxRecovery, Budget: b.FailoverBudget, ConsecutiveOK: b.ConsecutiveOK, Stall: b.MaxStall})
}

func TestDeploymentUse(t *testing.T) {
	var rejudged, annotated []string
	for _, s := range Specs() {
		if s.Deployment.Rejudged() {
			rejudged = append(rejudged, s.Name)
		}
		if s.Deployment == Annotated {
			annotated = append(annotated, s.Name)
		}
	}
	// What target mode judged from its history before the registry.
	assert.Subset(t, rejudged, []string{
		NameStickiness, NameSessionContinuity, NameRedirect, NameTLS, NameForwardedHeaders, NameFailover,
		NameCookieIsolation, NameReachability, NameReplicationConvergence, NameAutoIncrement, NameReplicationHealth,
	})
	assert.ElementsMatch(t, []string{NameTLS, NameStickiness}, annotated)
}

func TestNeedsString(t *testing.T) {
	cases := []struct {
		n    Needs
		want string
	}{
		{0, "-"},
		{NeedsDatabase, "database"},
		{NeedsDatabase | NeedsWrites, "database, writes"},
		{NeedsFault | NeedsRunProbe, "a fault, a probe during the run"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.n.String())
	}
}

func names(invs []Invariant) []string {
	out := make([]string, len(invs))
	for i, inv := range invs {
		out[i] = inv.Name()
	}
	return out
}

// literalAllowed are the places where an invariant's name is a string
// literal of another meaning. Struct tags and a Scenario's Name (scenario
// names are their own namespace) are never counted; keep this list short.
var literalAllowed = []struct{ path, name, why string }{
	{"lb/", NameRedirect, "the balancer's listener mode; lb is the system under test and cannot import check"},
	{"harness/", NameClearing, "the lab's clearing service id"},
	{"fakeprovider/", NameClearing, "the fake clearing service's JSON and log keys"},
	{"cmd/regify-verify/", NameClearing, "the 'clearing' sub-command and the provider's --clearing flag"},
	{"scenarios/faults/link.go", NameClearing, "the link faults' link=clearing knob value"},
	{"scenarios/nemesis.go", NameClearing, "the clearing-cut fault's knob name in the nemesis' target table"},
	{"scenarios/deploy/parse.go", NameTLS, "the deployment file's YAML section"},
	{"scenarios/deploy/parse_session.go", NameRedirect, "the session flow's YAML key (expect.redirect, logged_out.redirect)"},
}

func allowed(path, name string) bool {
	return slices.ContainsFunc(literalAllowed, func(a struct{ path, name, why string }) bool {
		return a.name == name && strings.HasPrefix(path, a.path)
	})
}

// TestNameLiteralsLiveInOneFile: each invariant's name is written as a
// string literal once, in its own file; everything else uses the constant,
// so the vocabulary cannot drift apart again.
func TestNameLiteralsLiveInOneFile(t *testing.T) {
	root := moduleRoot(t)
	found := map[string][]string{} // name -> files with the literal
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, name := range nameLiterals(f) {
			if _, ok := Lookup(name); ok && !allowed(rel, name) && !slices.Contains(found[name], rel) {
				found[name] = append(found[name], rel)
			}
		}
		return nil
	})
	require.NoError(t, err)
	for _, name := range Names() {
		own := "scenarios/check/check_" + strings.ReplaceAll(name, "-", "_") + ".go"
		assert.Equal(t, []string{own}, found[name], "the literal %q must appear only in %s: use the constant elsewhere", name, own)
	}
}

// nameLiterals returns the string literals of f, leaving out struct tags
// and the Name of a Scenario composite literal.
func nameLiterals(f *ast.File) []string {
	skip := map[*ast.BasicLit]bool{}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			if n.Tag != nil {
				skip[n.Tag] = true
			}
		case *ast.CompositeLit:
			if isScenarioType(n.Type) {
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
							if lit, ok := kv.Value.(*ast.BasicLit); ok {
								skip[lit] = true
							}
						}
					}
				}
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING && !skip[n] {
				if s, err := strconv.Unquote(n.Value); err == nil {
					out = append(out, s)
				}
			}
		}
		return true
	})
	return out
}

// moduleRoot is the directory of go.mod above the test's working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the working directory")
		dir = parent
	}
}

// isScenarioType reports whether a composite literal's type is Scenario or
// scenarios.Scenario: scenario names are their own namespace.
func isScenarioType(e ast.Expr) bool {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name == "Scenario"
	case *ast.SelectorExpr:
		return t.Sel.Name == "Scenario"
	}
	return false
}
