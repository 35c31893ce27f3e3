package deploy

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regify-verify/regify-verify/scenarios/load"
)

func TestParseGood(t *testing.T) {
	d, err := Load(filepath.Join("testdata", "good.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "good", d.Name)
	require.Len(t, d.Domains, 2)
	assert.Equal(t, Domain{Name: "abc.test", HTTPS: "https://abc.test:8443/", HTTP: "http://abc.test:8080/", Address: netip.MustParseAddr("127.0.5.1")}, d.Domains[0])
	assert.Empty(t, d.Domains[1].HTTP)
	// 4 from the range, 2 usable of the /30, 1 single.
	assert.Len(t, d.Clients.SourceIPs, 7)
	assert.Equal(t, netip.MustParseAddr("127.0.10.17"), d.Clients.SourceIPs[4])
	assert.Equal(t, "hunter2", d.Session.Password)
	assert.Equal(t, DefaultLoginPath, d.Session.LoginPath)
	assert.False(t, d.Session.Writes, "read-only unless the file says writes: true")
	assert.Equal(t, 6, d.Load.Users, "users default to at most one per source IP, an odd number per domain")
	require.NotNil(t, d.Database)
	assert.Equal(t, []string{"messages", "regify.sessions"}, d.Database.Tables)
	require.Len(t, d.Faults, 1)
	assert.Equal(t, FaultHook{Name: "stop-p1", Inject: "true", Recover: "true", Provider: "p1", Hold: 2 * time.Second, Timeout: DefaultHookTimeout}, d.Faults[0])
	assert.InDelta(t, 0.3, d.Stop.MaxErrorRate, 1e-9)
	assert.Equal(t, DefaultStopWindow, d.Stop.Window)
}

func TestParseExample(t *testing.T) {
	t.Setenv("REGIFY_TEST_PASSWORD", "from-env")
	d, err := Load(filepath.Join("..", "..", "examples", "deployment.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "staging", d.Name)
	assert.Len(t, d.Clients.SourceIPs, 32)
	assert.Equal(t, "from-env", d.Session.Password)
	assert.Equal(t, 20*time.Second, d.Load.Duration)
	assert.Equal(t, 14, d.Load.Users)
	assert.False(t, d.Session.Writes, "the example stays read-only")
}

func TestParseSession(t *testing.T) {
	const head = "name: x\ndomains:\n  - name: abc.test\n    https: https://abc.test:8443/\nclients:\n  source_ips: 127.0.10.1-127.0.10.3\n"
	tests := []struct {
		name    string
		session string
		want    Session
	}{
		{name: "defaults", session: "", want: Session{LoginPath: "/login", ProbePath: "/inbox", Password: DefaultPassword}},
		{name: "other paths", session: "session: {login_path: /api/v2/login, probe_path: /api/v2/inbox}\n",
			want: Session{LoginPath: "/api/v2/login", ProbePath: "/api/v2/inbox", Password: DefaultPassword}},
		{name: "writes", session: "session: {writes: true}\n", want: Session{LoginPath: "/login", ProbePath: "/inbox", Password: DefaultPassword, Writes: true}},
		{name: "writes false", session: "session: {writes: false}\n", want: Session{LoginPath: "/login", ProbePath: "/inbox", Password: DefaultPassword}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(head+tt.session), "d.yaml")
			require.NoError(t, err)
			tt.want.Flow = load.ContractFlow(load.Paths{Login: tt.want.LoginPath, Inbox: tt.want.ProbePath})
			assert.Equal(t, tt.want, d.Session)
		})
	}
}

// TestParseBadCorpus: every malformed file gets one clear error that names
// the key and line, never a panic. The first line of each file says
// "# want: <substring of the error>".
func TestParseBadCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 20)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			require.True(t, ok, "first line must be '# want: ...'")
			d, err := Load(f)
			require.Error(t, err)
			assert.Nil(t, d)
			var pe *Error
			require.True(t, errors.As(err, &pe), "want *Error, got %T", err)
			assert.Contains(t, err.Error(), want)
			assert.True(t, strings.HasPrefix(err.Error(), f), "error names the file: %s", err)
			if !strings.Contains(want, "empty") {
				assert.Positive(t, pe.Line, "error names the line: %s", err)
			}
			assert.NotContains(t, err.Error(), "topsecret", "a password leaked into the error")
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func TestParseAddrSpec(t *testing.T) {
	tests := []struct {
		in    string
		n     int
		first string
		last  string
		err   string
	}{
		{in: "127.0.10.1", n: 1, first: "127.0.10.1", last: "127.0.10.1"},
		{in: "127.0.10.1-127.0.10.32", n: 32, first: "127.0.10.1", last: "127.0.10.32"},
		{in: "127.0.10.250-127.0.11.2", n: 9, first: "127.0.10.250", last: "127.0.11.2"},
		{in: "127.0.10.0/27", n: 30, first: "127.0.10.1", last: "127.0.10.30"},
		{in: "127.0.10.4/31", n: 2, first: "127.0.10.4", last: "127.0.10.5"},
		{in: "fd00::1-fd00::3", n: 3, first: "fd00::1", last: "fd00::3"},
		{in: "fd00::/126", n: 4, first: "fd00::", last: "fd00::3"},
		{in: "127.0.0.0/16", err: "more than"},
		{in: "::/0", err: "more than"},
		{in: "nope", err: "not an IP address"},
		{in: "1.2.3.4-", err: "not a range"},
		{in: "fe80::1%eth0", err: "not an IP address"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseAddrSpec(tc.in, MaxSourceIPs)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, tc.n)
			assert.Equal(t, tc.first, got[0].String())
			assert.Equal(t, tc.last, got[len(got)-1].String())
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "testdata/bad/*.yaml", "../../examples/deployment.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a failure too: the fuzzer would only stall on it.
		stop := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("Parse took over 5s on %q", data)) })
		d, err := Parse(data, "testdata/fuzz.yaml")
		stop.Stop()
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if d != nil {
				t.Fatal("a deployment and an error")
			}
			return
		}
		if d.Name == "" || len(d.Domains) == 0 || len(d.Clients.SourceIPs) == 0 || d.Load.Users < 1 || d.Load.Users > len(d.Clients.SourceIPs) {
			t.Fatalf("accepted an incomplete deployment: %+v", d)
		}
		if err := d.Session.Flow.Validate(); err != nil {
			t.Fatalf("accepted a session flow that does not validate: %v", err)
		}
		for _, h := range d.Faults {
			if h.Name == "" || h.Inject == "" || h.Recover == "" {
				t.Fatalf("accepted a fault without name, inject or recover: %+v", h)
			}
		}
	})
}

func TestDefaultUsers(t *testing.T) {
	tests := []struct{ ips, domains, want int }{
		{ips: 32, domains: 2, want: 14}, // 7 + 7
		{ips: 32, domains: 1, want: 15},
		{ips: 32, domains: 3, want: 15}, // 5 + 5 + 5
		{ips: 7, domains: 2, want: 6},
		{ips: 1, domains: 2, want: 1},
		{ips: 4, domains: 4, want: 4},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, defaultUsers(tc.ips, tc.domains), "%d IPs, %d domains", tc.ips, tc.domains)
	}
}
