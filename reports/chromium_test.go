package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium opens local HTML files in headless Chromium with networking off:
// in a fresh network namespace when we are root, and always behind a dead
// proxy with every host name unresolvable. A NetLog records any request the
// page still tried, so "no outside requests" is observed, not assumed.
type chromium struct {
	bin    string
	prefix []string // unshare -n, when available
}

func newChromium(t *testing.T) chromium {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if _, err2 := os.Stat("/usr/bin/chromium"); err2 != nil {
			t.Skip("chromium not installed")
		}
		bin = "/usr/bin/chromium"
	}
	c := chromium{bin: bin}
	if os.Geteuid() == 0 {
		if u, err := exec.LookPath("unshare"); err == nil && exec.Command(u, "-n", "true").Run() == nil {
			c.prefix = []string{u, "-n"}
		} else {
			t.Log("unshare -n unavailable: relying on the dead proxy and host resolver rules only")
		}
	}
	return c
}

type pageLoad struct {
	DOM      string
	Console  []string // console messages the page produced
	Requests []string // network requests the page made
}

func (c chromium) run(t *testing.T, dir string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
		"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
	}
	argv := append(append(append([]string{}, c.prefix...), c.bin), append(base, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "chromium %v: %s", args, tail(errb.String(), 2000))
	return out.Bytes(), errb.Bytes()
}

var consoleLine = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)

// load opens file and returns its DOM after load, its console messages and
// the requests it made.
func (c chromium) load(t *testing.T, file string) pageLoad {
	t.Helper()
	dir := t.TempDir()
	netlog := filepath.Join(dir, "netlog.json")
	out, errb := c.run(t, dir, "--enable-logging=stderr", "--v=0", "--log-net-log="+netlog, "--dump-dom", "file://"+file)
	p := pageLoad{DOM: string(out), Console: consoleLine.FindAllString(string(errb), -1)}
	p.Requests = pageRequests(t, netlog)
	return p
}

// screenshot saves a PNG of file's first 1280×height pixels to png.
func (c chromium) screenshot(t *testing.T, file, png string, height int) {
	t.Helper()
	c.run(t, t.TempDir(), fmt.Sprintf("--window-size=1280,%d", height), "--screenshot="+png, "file://"+file)
	st, err := os.Stat(png)
	require.NoError(t, err, "screenshot not written")
	require.Greater(t, st.Size(), int64(10_000), "screenshot suspiciously small")
}

// pageRequests lists the URL requests in a NetLog started on behalf of a
// page. The browser's own housekeeping (component updates, time sync) has no
// initiating origin and is left out: it is not something the report asked for.
func pageRequests(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err, "reading NetLog")
	var nl struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL       string `json:"url"`
				Initiator string `json:"initiator"`
			} `json:"params"`
		} `json:"events"`
	}
	// Chromium may be killed before it closes the JSON array; close it.
	s := strings.TrimRight(string(data), " \n\r\t,")
	if !strings.HasSuffix(s, "}") || !json.Valid([]byte(s)) {
		s += "]}"
	}
	require.NoError(t, json.Unmarshal([]byte(s), &nl), "parsing NetLog")
	start, ok := nl.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	require.True(t, ok, "NetLog without URL_REQUEST_START_JOB")
	var reqs []string
	for _, e := range nl.Events {
		if e.Type != start || e.Params.Initiator == "not an origin" {
			continue
		}
		if u := e.Params.URL; u != "" && !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
			reqs = append(reqs, u)
		}
	}
	return reqs
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// The detector is tested first: a page that logs to the console and fetches
// an outside image must be caught, or a clean result below proves nothing.
func TestChromiumDetectorCatchesBadPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newChromium(t)
	bad := filepath.Join(t.TempDir(), "bad.html")
	require.NoError(t, os.WriteFile(bad, []byte(`<!DOCTYPE html><html><body><p id="x">hi</p>`+
		`<img src="http://example.invalid/logo.png"><script>console.error("control-error")</script></body></html>`), 0o644))
	p := c.load(t, bad)
	assert.Contains(t, p.DOM, `<p id="x">hi</p>`)
	assert.Contains(t, strings.Join(p.Console, "\n"), "control-error")
	assert.Contains(t, p.Requests, "http://example.invalid/logo.png")
}

func TestHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newChromium(t)
	tests := []struct {
		name    string
		r       *Report
		verdict string
		// the invariant that must read as failed, with a line of its witness
		failed, witness string
	}{
		{"passing", fixtureReport(), "PASS", "", ""},
		{"broken", brokenReport(), "FAIL", "no-lost-writes", "messages.id=msg-0412-77  acknowledged 201 by p1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, WriteAll(dir, tc.r, Options{}))
			file := filepath.Join(dir, HTMLFile)
			p := c.load(t, file)

			assert.Empty(t, p.Console, "console messages")
			assert.Empty(t, p.Requests, "outside requests")
			domMatches(t, p.DOM, `id="run-verdict"[^>]*>`+tc.verdict+`<`)
			assert.True(t, strings.Contains(p.DOM, `id="verdict-matrix"`), "no verdict matrix")
			for _, name := range []string{"baseline", "provider-crash", "round-robin"} {
				domMatches(t, p.DOM, `<th scope="row"><a href="#s\d-`+name+`">`+name+`</a>`)
			}
			// The negative control reads as caught, distinct from a failure.
			domMatches(t, p.DOM, `class="c c-caught"[^>]*><a href="#s3-round-robin-stickiness">FAIL<small>expected</small></a>`)
			assert.True(t, strings.Contains(p.DOM, `&lt;script&gt;alert(1)&lt;/script&gt;`), "evidence not escaped")
			if tc.failed != "" {
				domMatches(t, p.DOM, `class="c c-fail"[^>]*><a href="#s2-provider-crash-`+tc.failed+`">FAIL</a>`)
				card := regexp.MustCompile(`(?s)<div class="inv k-fail" id="s2-provider-crash-` + tc.failed + `".*?</pre>`).FindString(p.DOM)
				require.NotEmpty(t, card, "failed invariant card missing")
				assert.Contains(t, card, tc.witness)
			} else {
				assert.False(t, strings.Contains(p.DOM, `data-outcome="fail"`), "a passing run shows a failure")
			}

			png := filepath.Join(dir, "report-"+tc.name+".png")
			c.screenshot(t, file, png, 2400)
			if out := os.Getenv("REGIFY_VERIFY_SCREENSHOT_DIR"); out != "" {
				require.NoError(t, os.MkdirAll(out, 0o755))
				data, err := os.ReadFile(png)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(out, filepath.Base(png)), data, 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(out, "report-"+tc.name+".html"), mustRead(t, file), 0o644))
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// domMatches asserts without printing the whole DOM on failure.
func domMatches(t *testing.T, dom, pattern string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(dom) {
		t.Errorf("DOM does not match %s", pattern)
	}
}
