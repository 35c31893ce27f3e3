package catalogue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
	"github.com/regify-verify/regify-verify/scenarios/faults"
)

// SplitBrain partitions the masters under load while one user presents
// the same session token to both providers, one on each side of the cut.
// Neither provider can refuse it (its own master holds that token as the
// newest), so the token chain forks; the heal must reconcile it: both
// masters end on one token for the session, and the other branch is then
// refused as outdated.
func SplitBrain() scenarios.Scenario {
	return scenarios.Scenario{
		Name: "split-brain",
		Description: "The replication link is cut both ways under load; during the cut one user presents the same session token to provider 1 and, from a second address, to provider 2, and both accept it (each master knows only its own side). " +
			"After the heal both masters must hold one token for the session (the other branch is refused as outdated) and no message id may be acknowledged on both sides with different content.",
		Requires:      []string{check.NameSplitBrain, check.NameReplicationConvergence},
		NeedsDatabase: true,
		Duration:      8 * time.Second,
		Invariants:    splitBrainInvariants(),
		Drill:         splitBrainDrill,
	}
}

// splitBrainInvariants are the lab's invariants but cookie-isolation: the
// probe presents a token that the other side has already replaced, on
// purpose, and cookie-isolation (rightly, on a connected pair) reads any
// superseded token accepted as a hijack. Across a partition that is the
// fork split-brain judges, with the heal in view.
func splitBrainInvariants() []string {
	return slices.DeleteFunc(check.Names(), func(n string) bool { return n == check.NameCookieIsolation })
}

// The split-brain probe: one account, two devices, each on its own
// provider. The addresses are loopback addresses no simulated user has
// (the plan gives users 127.0.10.1-250), moved to the lab's lane.
const (
	splitBrainUser = "split-brain-probe"
	// splitBrainAt is when the cut comes, from the start of the load:
	// between two of the lag sampler's heartbeats (every 500 ms from the
	// start), since replication-lag counts a heartbeat written a moment
	// before the cut, and lost to it, as lag outside the fault's window.
	splitBrainAt   = 2250 * time.Millisecond
	splitBrainHold = 3 * time.Second // how long the masters stay apart
	splitBrainWait = 300 * time.Millisecond
)

var splitBrainSources = [2]string{"127.0.10.253", "127.0.10.254"}

// sessionCookie is the provider contract's session cookie.
const sessionCookie = "regify_session"

// requestRecorder is a drill environment that adds the drill's own
// requests to the run's history. The engine's DrillEnv does not offer it
// yet (one method, Record, calling the injector's recorder); until it does
// the probe's requests are not recorded and split-brain judges the fork on
// the masters' rows alone (same generation, different secrets), without
// the providers and times the requests would name.
type requestRecorder interface {
	Record(history.Request) int64
}

// splitBrainDrill logs the probe's user in on provider 1 before the cut,
// waits until its session has replicated to master B, cuts replication,
// presents the one token to provider 1 and then to provider 2, and heals
// the cut after splitBrainHold. Both providers must accept the token, else
// the scenario did not fork anything and says so as an error.
func splitBrainDrill(ctx context.Context, d *scenarios.DrillEnv) (map[string]float64, error) {
	pair := d.Lab.Pair()
	providers := d.Lab.Options().Plan.ProviderIDs()
	if pair == nil || len(providers) < 2 {
		return nil, errors.New("the split-brain probe needs the MariaDB pair and two providers")
	}
	record := func(history.Request) {}
	if rec, ok := any(d).(requestRecorder); ok {
		record = func(r history.Request) { rec.Record(r) }
	}
	tenant := d.Lab.Options().Plan.Domains[0].Name
	var devices [2]*probeDevice
	for i := range devices {
		src := harness.LaneAddr(netip.MustParseAddr(splitBrainSources[i]), d.Lab.Options().Lane).String()
		dev, err := newProbeDevice(d.Lab, providers[i], tenant, src)
		if err != nil {
			return nil, err
		}
		defer dev.close()
		devices[i] = dev
	}
	if !scenarios.SleepUntil(ctx, d.Start.Add(splitBrainAt-time.Second)) {
		return nil, nil
	}
	login := devices[0].do(ctx, http.MethodPost, "/login", url.Values{"user": {splitBrainUser}, "password": {d.Lab.Options().Password}}, "", history.OpLogin)
	record(login)
	if login.Status != http.StatusOK || login.TokenReceived == "" {
		return nil, fmt.Errorf("split-brain probe: log in at %s: status %d %s", providers[0], login.Status, login.Err)
	}
	// A heartbeat written on A after the login and seen on B: the session
	// row is on both masters, so each side will take its token as newest.
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err := pair.Lag(bctx, "a")
	cancel()
	if err != nil {
		return nil, fmt.Errorf("split-brain probe: the session did not replicate to master B before the cut: %w", err)
	}
	if !scenarios.SleepUntil(ctx, d.Start.Add(splitBrainAt)) {
		return nil, nil
	}
	cut, err := d.Inject(ctx, faults.ReplicationCut{})
	if err != nil {
		return nil, errors.Join(err, d.Recover(ctx, cut))
	}
	var errs []error
	forked := 0.0
	if scenarios.SleepUntil(ctx, time.Now().Add(splitBrainWait)) {
		var got [2]history.Request
		for i, dev := range devices {
			got[i] = dev.do(ctx, http.MethodGet, "/inbox", nil, login.TokenReceived, history.OpInbox)
			record(got[i])
		}
		if accepted(got[0]) && accepted(got[1]) && got[0].TokenReceived != got[1].TokenReceived {
			forked = 1
		} else {
			errs = append(errs, fmt.Errorf("split-brain probe: the token was not accepted on both sides, nothing forked (%s: %s; %s: %s)",
				providers[0], answer(got[0]), providers[1], answer(got[1])))
		}
	}
	scenarios.SleepUntil(ctx, cut.At.Add(splitBrainHold))
	if err := d.Recover(ctx, cut); err != nil {
		errs = append(errs, err)
	}
	return map[string]float64{"split_brain_forked_tokens": forked}, errors.Join(errs...)
}

func accepted(r history.Request) bool { return r.OK() && r.TokenReceived != "" }

func answer(r history.Request) string {
	if r.Err != "" {
		return r.Err
	}
	return fmt.Sprintf("%d from %s", r.Status, r.Provider)
}

// probeDevice is one of the probe user's devices: it talks to one
// provider's internal address for tenant directly (the balancer would pin
// it there by its source address) and records each exchange as the load
// records its own.
type probeDevice struct {
	tr     *http.Transport
	client *http.Client
	addr   string
	source string
	tenant string
}

func newProbeDevice(lab *harness.Lab, provider, tenant, source string) (*probeDevice, error) {
	addr, ok := lab.Internal()[provider][tenant]
	if !ok {
		return nil, fmt.Errorf("split-brain probe: provider %s serves no tenant %s in this lab", provider, tenant)
	}
	local := &net.TCPAddr{IP: net.ParseIP(source)}
	tr := &http.Transport{Proxy: nil, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: local, Timeout: 2 * time.Second}
		return d.DialContext(ctx, network, addr)
	}}
	return &probeDevice{tr: tr, client: &http.Client{Transport: tr, Timeout: scenarios.ClientTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		addr: addr, source: source, tenant: tenant}, nil
}

func (p *probeDevice) close() { p.tr.CloseIdleConnections() }

// do sends one request with token as the session cookie (none when empty)
// and returns its record.
func (p *probeDevice) do(ctx context.Context, method, path string, form url.Values, token string, op history.Op) history.Request {
	u := "http://" + p.tenant + path
	rec := history.Request{User: splitBrainUser, SourceIP: p.source, Tenant: p.tenant, Method: method, URL: u, Op: op, TokenSent: token}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	rec.Start = time.Now()
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-Proto", "https") // as the offloading balancer says
	if token != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
	}
	resp, err := p.client.Do(req)
	if err != nil {
		rec.Latency, rec.Err = time.Since(rec.Start), err.Error()
		return rec
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	rec.Latency, rec.Status = time.Since(rec.Start), resp.StatusCode
	rec.Provider = resp.Header.Get("X-Regify-Provider")
	rec.ServedTenant = resp.Header.Get("X-Regify-Tenant")
	rec.SessionUser = resp.Header.Get("X-Regify-User")
	rec.LoggedOut = resp.StatusCode == http.StatusUnauthorized
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			rec.TokenReceived = c.Value
		}
	}
	return rec
}

func init() { register(155, SplitBrain) }
