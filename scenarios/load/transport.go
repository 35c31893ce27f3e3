package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/regify-verify/regify-verify/history"
)

// maxBody bounds how much of a response body is read and kept.
const maxBody = 1 << 20

// user is one simulated user: its plan, its jar and its own transport.
type user struct {
	idx    int
	name   string
	domain history.Domain
	base   *url.URL
	source netip.Addr
	plan   *plan
	jar    http.CookieJar
	rt     http.RoundTripper // dials from source
	turns  *turns            // one request at a time, in arrival order
	cur    step              // the step in flight; set by the targeter
	due    time.Time         // when the step in flight was scheduled
}

// newUserTransport is a transport that dials from one source address and
// verifies certificates against the run's CA. Proxies from the environment
// are ignored: the load must only reach the configured addresses.
func newUserTransport(cfg *Config, source netip.Addr) *http.Transport {
	dial := cfg.Dial
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dial(ctx, source, network, addr)
		},
		TLSClientConfig: &tls.Config{
			RootCAs:            cfg.CA,
			MinVersion:         tls.VersionTLS12,
			ClientSessionCache: tls.NewLRUClientSessionCache(4),
		},
		TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
}

// router is the vegeta client's RoundTripper: it hands each request to the
// user the targeter marked it for.
type router struct {
	ctx   context.Context // the run: cancelling it aborts requests in flight
	users []*user
	sched *schedule
	sink  Sink
	flow  *Flow
	stats *Counters
	log   *slog.Logger
}

// RoundTrip implements http.RoundTripper.
func (r *router) RoundTrip(req *http.Request) (*http.Response, error) {
	i, err := strconv.Atoi(req.Header.Get(UserHeader))
	if err != nil || i < 0 || i >= len(r.users) {
		return nil, fmt.Errorf("load: request %s %s carries no valid %s header", req.Method, req.URL, UserHeader)
	}
	u := r.users[i]
	defer u.turns.done() // after the state is updated and recorded
	return r.roundTrip(u, req)
}

// roundTrip sends one request of u with its newest session token, records
// it and advances u's plan.
func (r *router) roundTrip(u *user, req *http.Request) (*http.Response, error) {
	st := u.cur
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel)
	defer stop()
	var ct connTrace
	out := req.Clone(httptrace.WithClientTrace(ctx, ct.trace()))
	out.Header.Del(UserHeader)
	out.Header.Del("Cookie")

	rec := history.Request{
		User:      u.name,
		SourceIP:  u.source.String(),
		Tenant:    u.domain.Name,
		Method:    out.Method,
		URL:       out.URL.String(),
		Op:        st.op,
		MessageID: st.msgID,
		Scheduled: u.due,
	}
	jarred := u.jar.Cookies(out.URL)
	for _, c := range jarred {
		out.AddCookie(c)
	}
	rec.TokenSent = r.flow.presented(jarred)

	r.stats.inFlight.Add(1)
	rec.Start = time.Now()
	resp, body, err := r.send(u, out, st)
	rec.Latency = time.Since(rec.Start)
	r.stats.inFlight.Add(-1)

	local, remote := ct.addrs()
	if ip := hostIP(local); ip != "" {
		rec.SourceIP = ip // where the connection really came from
	}
	a := newAnswer(resp, body, err)
	if resp != nil {
		if serr := addResponse(&rec, resp, remote); serr != nil {
			// The header is informative; a bad one must not fail the request.
			r.log.Warn("undecodable X-Regify-Seen header", "user", u.name, "url", rec.URL, "err", serr)
		}
		r.flow.observe(&rec, a, st.expect(), u.name)
	}
	if err != nil {
		rec.Err = err.Error()
	}
	u.plan.done(st, a)
	r.stats.requests.Add(1)
	if failed(&rec) {
		r.stats.errors.Add(1)
	}
	r.sink.Add(rec)

	if err != nil {
		return nil, fmt.Errorf("%s %s as %s: %w", out.Method, out.URL, u.name, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.Request = req
	return resp, nil
}

// send sends one request of u: see exchange.
func (r *router) send(u *user, req *http.Request, st step) (*http.Response, []byte, error) {
	return exchange(u.rt, u.jar, req, st.def != nil && st.def.Follow)
}

// exchange sends req with rt, reads the body and stores the cookies the
// answer sets in jar. With follow it follows redirects (GET, at most
// maxRedirects, each hop with the jar's cookies) and returns the last
// answer.
func exchange(rt http.RoundTripper, jar http.CookieJar, req *http.Request, follow bool) (*http.Response, []byte, error) {
	for hop := 0; ; hop++ {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return nil, nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		_ = resp.Body.Close() // the body is read; a close error changes nothing
		jar.SetCookies(req.URL, resp.Cookies())
		loc, lerr := resp.Location()
		if err != nil || !follow || lerr != nil || resp.StatusCode < 300 || resp.StatusCode >= 400 {
			return resp, body, err
		}
		if hop == maxRedirects {
			return resp, body, fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		next, err := http.NewRequestWithContext(req.Context(), http.MethodGet, loc.String(), nil)
		if err != nil {
			return resp, body, fmt.Errorf("follow redirect to %s: %w", loc, err)
		}
		for _, c := range jar.Cookies(next.URL) {
			next.AddCookie(c)
		}
		req = next
	}
}

// newJar makes a user's own cookie jar.
func newJar() http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		// cookiejar.New only fails on a bad PublicSuffixList; nil is fine.
		panic(fmt.Sprintf("load: cookie jar: %v", err))
	}
	return jar
}
