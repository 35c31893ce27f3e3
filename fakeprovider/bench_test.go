package fakeprovider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The mix one simulated user repeats: the lab's workload.
var benchMix = []string{"login", "inbox", "send", "read", "inbox", "send", "read", "logout"}

// benchUser walks benchMix through do, which sends one request and returns
// the status and the new cookie, if any.
type benchUser struct {
	name, cookie, last string
	step, n            int
}

func (u *benchUser) next(ids *atomic.Int64) (method, path string, form url.Values) {
	op := benchMix[u.step%len(benchMix)]
	u.step++
	switch op {
	case "login":
		return "POST", "/login", url.Values{"user": {u.name}, "password": {DefaultPassword}}
	case "inbox":
		return "GET", "/inbox", nil
	case "send":
		u.last = fmt.Sprintf("%s-%d", u.name, ids.Add(1))
		return "POST", "/messages", url.Values{"id": {u.last}, "to": {"bob"}, "body": {"benchmark message"}}
	case "read":
		return "GET", "/messages/" + u.last, nil
	default:
		return "POST", "/logout", nil
	}
}

func benchSetup(b *testing.B) *Provider {
	c := NewClearing("c1")
	if err := c.Start(context.Background(), "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	p, err := New(Config{ID: "p1", Tenants: []string{"abc.test", "def.test"}, Store: NewMemoryStore(),
		Clearing: []string{c.URL()}, ShowSeen: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
		_ = c.Close(ctx)
	})
	return p
}

func checkStatus(b *testing.B, method, path string, code int) {
	want := 200
	if method == "POST" && path == "/messages" {
		want = 201
	}
	if code != want {
		b.Errorf("%s %s: status %d, want %d", method, path, code, want)
	}
}

// BenchmarkHandlerMix measures requests/s of the handler alone (memory store,
// clearing over loopback HTTP).
func BenchmarkHandlerMix(b *testing.B) {
	p := benchSetup(b)
	h := p.Handler()
	var users, ids atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		u := &benchUser{name: fmt.Sprintf("u%d", users.Add(1))}
		for pb.Next() {
			method, path, form := u.next(&ids)
			req := httptest.NewRequest(method, "http://abc.test"+path, strings.NewReader(form.Encode()))
			if form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if u.cookie != "" {
				req.AddCookie(&http.Cookie{Name: CookieName, Value: u.cookie})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			checkStatus(b, method, path, rec.Code)
			for _, c := range rec.Result().Cookies() {
				if c.Name == CookieName {
					u.cookie = c.Value
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkLoopbackMix measures requests/s over real loopback HTTP with
// keep-alive connections, one per simulated user.
func BenchmarkLoopbackMix(b *testing.B) {
	p := benchSetup(b)
	if err := p.Listen(context.Background(), "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	base := "http://" + p.Addrs()[0]
	var users, ids atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		u := &benchUser{name: fmt.Sprintf("u%d", users.Add(1))}
		for pb.Next() {
			method, path, form := u.next(&ids)
			req, err := http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
			if err != nil {
				b.Error(err)
				return
			}
			req.Host = "abc.test"
			if form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if u.cookie != "" {
				req.AddCookie(&http.Cookie{Name: CookieName, Value: u.cookie})
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			checkStatus(b, method, path, resp.StatusCode)
			for _, c := range resp.Cookies() {
				if c.Name == CookieName {
					u.cookie = c.Value
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
