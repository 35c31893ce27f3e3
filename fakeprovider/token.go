package fakeprovider

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CookieName is the session cookie of the provider.
const CookieName = "regify_session"

// Token is the value of the session cookie: "<sid>.<gen>.<secret>". The
// session id stays for the life of the session so an outdated token can be
// traced to its session and revoke it; gen counts rotations, which lets a 401
// say whether the token was older or newer than the provider's database.
type Token struct {
	SID    string // 32 lower-case hex digits
	Gen    int64  // 1 at login, +1 per rotation
	Secret string // 32 lower-case hex digits, new on every rotation
}

const (
	idHexLen       = 32
	maxTokenLen    = idHexLen + 1 + 19 + 1 + idHexLen
	errTokenPrefix = "parse session token"
)

var errBadToken = errors.New(errTokenPrefix + ": malformed")

// String is the cookie value.
func (t Token) String() string {
	return t.SID + "." + strconv.FormatInt(t.Gen, 10) + "." + t.Secret
}

// ParseToken parses a cookie value strictly; anything unexpected is an error.
func ParseToken(s string) (Token, error) {
	if len(s) > maxTokenLen {
		return Token{}, fmt.Errorf("%s: %d bytes, at most %d", errTokenPrefix, len(s), maxTokenLen)
	}
	sid, rest, ok := strings.Cut(s, ".")
	if !ok {
		return Token{}, errBadToken
	}
	genS, secret, ok := strings.Cut(rest, ".")
	if !ok || !isHexID(sid) || !isHexID(secret) {
		return Token{}, errBadToken
	}
	if genS == "" || len(genS) > 19 || genS[0] == '0' {
		return Token{}, errBadToken
	}
	for i := 0; i < len(genS); i++ {
		if genS[i] < '0' || genS[i] > '9' {
			return Token{}, errBadToken
		}
	}
	gen, err := strconv.ParseInt(genS, 10, 64)
	if err != nil || gen < 1 {
		return Token{}, errBadToken
	}
	return Token{SID: sid, Gen: gen, Secret: secret}, nil
}

func isHexID(s string) bool {
	if len(s) != idHexLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// randomHex returns 16 random bytes in hex.
func randomHex() string {
	var b [idHexLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go ≥1.24 panics instead)
	return hex.EncodeToString(b[:])
}

// newSessionToken is the first token of a new session.
func newSessionToken() Token { return Token{SID: randomHex(), Gen: 1, Secret: randomHex()} }

// next is the token that replaces t on rotation.
func (t Token) next() Token { return Token{SID: t.SID, Gen: t.Gen + 1, Secret: randomHex()} }
