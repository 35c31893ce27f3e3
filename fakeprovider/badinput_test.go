package fakeprovider

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawRequest sends raw bytes over one TCP connection and returns the status.
func rawRequest(t *testing.T, addr, raw string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	go func() { _, _ = io.WriteString(conn, raw) }() // the server may answer before reading it all
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the server must answer, not drop the connection")
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestBadInputGets4xxAndLosesNothing(t *testing.T) {
	store := NewMemoryStore()
	p := newTestProvider(t, Config{Store: store, ShowSeen: true})
	require.NoError(t, p.Listen(context.Background(), "127.0.0.1:0"))
	addr := p.Addrs()[0]

	u := newUser(t, p.Handler(), "abc.test", "alice")
	u.login()
	require.Equal(t, 201, u.send("keep", "precious").Code)

	form := func(path, cookie, body string) string {
		c := ""
		if cookie != "" {
			c = "Cookie: " + CookieName + "=" + cookie + "\r\n"
		}
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: abc.test\r\n%sContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			path, c, len(body), body)
	}
	get := func(path, headers string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: abc.test\r\n" + headers + "Connection: close\r\n\r\n"
	}
	// login gives every row its own valid session
	fresh := func() string { v := newUser(t, p.Handler(), "abc.test", "alice"); v.login(); return v.cookie }

	tests := []struct {
		name string
		raw  func() string
		want int
	}{
		{"oversized cookie", func() string { return get("/inbox", "Cookie: "+CookieName+"="+strings.Repeat("a", 8000)+"\r\n") }, 401},
		{"cookie with a control byte", func() string { return get("/inbox", "Cookie: "+CookieName+"=\x01\r\n") }, 400},
		{"cookie with garbage", func() string { return get("/inbox", "Cookie: "+CookieName+"=\"a;;==\"; x\r\n") }, 401},
		{"two cookies", func() string { return get("/inbox", "Cookie: "+CookieName+"=1.1.1; "+CookieName+"=\r\n") }, 401},
		{"oversized headers", func() string { return get("/inbox", "X-Big: "+strings.Repeat("b", 64<<10)+"\r\n") }, 431},
		{"oversized form", func() string { return form("/messages", fresh(), "id=x&body="+strings.Repeat("c", 100<<10)) }, 413},
		{"oversized body field", func() string { return form("/messages", fresh(), "id=x&body="+strings.Repeat("c", 20<<10)) }, 400},
		{"malformed form", func() string { return form("/messages", fresh(), "id=%zz&body=x") }, 400},
		{"invalid UTF-8 body", func() string { return form("/messages", fresh(), "id=bad&body=%ff%fe") }, 400},
		{"id with NUL", func() string { return form("/messages", fresh(), "id=a%00b&body=x") }, 400},
		{"id too long", func() string { return form("/messages", fresh(), "id="+strings.Repeat("i", 200)+"&body=x") }, 400},
		{"user with space", func() string { return form("/login", "", "user=a+b&password=regify") }, 400},
		{"no host", func() string { return "GET /inbox HTTP/1.0\r\n\r\n" }, 421},
		{"wrong method", func() string { return "DELETE /inbox HTTP/1.1\r\nHost: abc.test\r\nConnection: close\r\n\r\n" }, 405},
		{"unknown path", func() string { return get("/admin", "") }, 404},
		{"garbage request line", func() string { return "\x00\x01\x02 / HTTP/1.1\r\n\r\n" }, 400},
		{"forwarded headers with junk", func() string {
			return get("/debug/seen", "X-Forwarded-For: "+strings.Repeat("\xff", 2000)+"\r\nForwarded: \"\r\n")
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, rawRequest(t, addr, tt.raw()))
		})
	}
	m, err := store.Message(context.Background(), "abc.test", "keep")
	require.NoError(t, err, "nothing lost")
	assert.Equal(t, "precious", m.Body)
	_, err = store.Message(context.Background(), "abc.test", "x")
	require.ErrorIs(t, err, ErrNotFound, "a refused send stores nothing")
	require.Equal(t, 200, u.do("GET", "/inbox", nil).Code, "the session survived")
}
