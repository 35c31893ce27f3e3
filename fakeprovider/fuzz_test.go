package fakeprovider

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		newSessionToken().String(), "", ".", "..", "a.1.b",
		strings.Repeat("a", 32) + ".0." + strings.Repeat("b", 32),
		strings.Repeat("a", 32) + ".9223372036854775808." + strings.Repeat("b", 32),
		strings.Repeat("A", 32) + ".1." + strings.Repeat("b", 32),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		if tok.String() != s {
			t.Fatalf("ParseToken(%q) round-trips to %q", s, tok.String())
		}
		if tok.Gen < 1 || !isHexID(tok.SID) || !isHexID(tok.Secret) {
			t.Fatalf("ParseToken(%q) accepted %+v", s, tok)
		}
	})
}

// FuzzRequest feeds raw HTTP/1.1 requests to the provider's handler (after
// net/http's own parser, as a real server would) with a valid session around,
// and demands no panic and no 5xx: bad input must get 4xx.
func FuzzRequest(f *testing.F) {
	store := NewMemoryStore()
	p, err := New(Config{ID: "p1", Tenants: []string{"abc.test", "def.test"}, Store: store, ShowSeen: true})
	if err != nil {
		f.Fatal(err)
	}
	valid := newSessionToken()
	seed := func(method, path, headers, body string) {
		f.Add([]byte(method + " " + path + " HTTP/1.1\r\nHost: abc.test\r\n" + headers +
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body))
	}
	seed("POST", "/login", "", "user=alice&password=regify")
	seed("POST", "/login", "", "user=al%00ice&password=regify")
	seed("GET", "/inbox", "Cookie: regify_session="+valid.String()+"\r\n", "")
	seed("POST", "/messages", "Cookie: regify_session="+valid.String()+"\r\n", "id=m1&to=bob&body=hi")
	seed("POST", "/messages", "Cookie: regify_session="+valid.String()+"\r\n", "id=m1&body=%ff%fe")
	seed("GET", "/messages/%2e%2e", "Cookie: regify_session="+valid.String()+"\r\n", "")
	seed("GET", "/debug/seen", "X-Forwarded-For: 1.2.3.4\r\nForwarded: for=\"[::1]\"\r\n", "")
	seed("POST", "/logout", "Cookie: regify_session=; regify_session="+valid.String()+"\r\n", "")
	seed("GET", "/health", "", "")
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // net/http answers 400 itself
		}
		req.RemoteAddr = "127.0.10.1:1234"
		// Every input runs against a live session, so authenticated paths
		// are reached; the fuzzer's own cookie, if any, replaces it.
		store.mu.Lock()
		store.sessions[MessageKey("abc.test", valid.SID)] = &Session{Tenant: "abc.test", User: "alice", Token: valid}
		store.mu.Unlock()
		rec := httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, raw, rec.Body.String())
		}
		if rec.Header().Get(HeaderProvider) != "p1" {
			t.Fatalf("no provider header for %q", raw)
		}
	})
}

func FuzzClearRequest(f *testing.F) {
	c := NewClearing("c1")
	for _, s := range []string{`{"tenant":"abc.test","id":"m1","provider":"p1"}`, `{`, `[]`, `{"tenant":1}`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "http://c/clear", strings.NewReader(body))
		rec := httptest.NewRecorder()
		c.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
