package fakeprovider

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns; wrap-aware callers use errors.Is.
var (
	// ErrNotFound means no session or message has that key.
	ErrNotFound = errors.New("not found")
	// ErrExists means a session with that id exists already.
	ErrExists = errors.New("already exists")
)

// Session is one login of one user on one tenant.
type Session struct {
	Tenant  string
	User    string
	Token   Token // the current token; only this one is valid
	Revoked bool
	Created time.Time
}

// Message is one sent message; (Tenant, ID) is unique.
type Message struct {
	Tenant    string    `json:"tenant"`
	ID        string    `json:"id"` // chosen by the client, so retries are idempotent
	User      string    `json:"from"`
	To        string    `json:"to"`
	Body      string    `json:"body"`
	Created   time.Time `json:"created"`
	Cleared   bool      `json:"cleared"`
	ClearedBy string    `json:"cleared_by,omitempty"` // provider that cleared it
}

// MessageKey is how clearing counts and ListMessageIDs name a message.
func MessageKey(tenant, id string) string { return tenant + "/" + id }

// Store is the provider's database. Every method reads the newest value it
// holds (no caching), so two providers that share a replicated store see each
// other's tokens exactly as far as replication has carried them.
type Store interface {
	// CreateSession stores a new session; ErrExists if its id is taken.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with that id, or ErrNotFound.
	Session(ctx context.Context, tenant, sid string) (Session, error)
	// RotateToken replaces the token of a live session with next only if its
	// current token is still old (compare-and-swap in one atomic step). It
	// reports false when the token had changed or the session is revoked.
	RotateToken(ctx context.Context, tenant string, old, next Token) (bool, error)
	// RevokeSession marks the session revoked; unknown ids are not an error.
	RevokeSession(ctx context.Context, tenant, sid string) error
	// PutMessage inserts m unless (m.Tenant, m.ID) exists; it returns the
	// stored message and whether this call created it.
	PutMessage(ctx context.Context, m Message) (Message, bool, error)
	// MarkCleared records that the message was cleared by provider by.
	MarkCleared(ctx context.Context, tenant, id, by string) error
	// Message returns one message, or ErrNotFound.
	Message(ctx context.Context, tenant, id string) (Message, error)
	// Inbox lists the newest messages sent by or to user, at most limit.
	Inbox(ctx context.Context, tenant, user string, limit int) ([]Message, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}
