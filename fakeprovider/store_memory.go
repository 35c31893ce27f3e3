package fakeprovider

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// MemoryStore is a Store in process memory, safe for concurrent use. Two
// providers sharing one MemoryStore behave like two providers on a perfectly
// (instantly) replicated database.
type MemoryStore struct {
	mu       sync.RWMutex
	down     bool
	sessions map[string]*Session // key tenant/sid
	messages map[string]*Message // key tenant/id
	seq      map[string]int64    // insertion order, for the inbox
	byUser   map[string][]string // tenant/user → message keys, oldest first
	next     int64
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		sessions: map[string]*Session{},
		messages: map[string]*Message{},
		seq:      map[string]int64{},
		byUser:   map[string][]string{},
	}
}

// ErrStoreDown is what a MemoryStore returns while SetDown(true).
var ErrStoreDown = errors.New("memory store: database unreachable (simulated)")

// SetDown makes every call fail as if the database were unreachable.
func (m *MemoryStore) SetDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

func (m *MemoryStore) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.down {
		return ErrStoreDown
	}
	return nil
}

// CreateSession implements Store.
func (m *MemoryStore) CreateSession(ctx context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	k := MessageKey(s.Tenant, s.Token.SID)
	if _, ok := m.sessions[k]; ok {
		return fmt.Errorf("create session %s: %w", k, ErrExists)
	}
	m.sessions[k] = &s
	return nil
}

// Session implements Store.
func (m *MemoryStore) Session(ctx context.Context, tenant, sid string) (Session, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return Session{}, err
	}
	s, ok := m.sessions[MessageKey(tenant, sid)]
	if !ok {
		return Session{}, fmt.Errorf("session %s/%s: %w", tenant, sid, ErrNotFound)
	}
	return *s, nil
}

// RotateToken implements Store.
func (m *MemoryStore) RotateToken(ctx context.Context, tenant string, old, next Token) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return false, err
	}
	s, ok := m.sessions[MessageKey(tenant, old.SID)]
	if !ok || s.Revoked || s.Token != old {
		return false, nil
	}
	s.Token = next
	return true, nil
}

// RevokeSession implements Store.
func (m *MemoryStore) RevokeSession(ctx context.Context, tenant, sid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	if s, ok := m.sessions[MessageKey(tenant, sid)]; ok {
		s.Revoked = true
	}
	return nil
}

// PutMessage implements Store.
func (m *MemoryStore) PutMessage(ctx context.Context, msg Message) (Message, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return Message{}, false, err
	}
	k := MessageKey(msg.Tenant, msg.ID)
	if old, ok := m.messages[k]; ok {
		return *old, false, nil
	}
	msg.Cleared, msg.ClearedBy = false, ""
	m.messages[k] = &msg
	m.next++
	m.seq[k] = m.next
	m.byUser[MessageKey(msg.Tenant, msg.User)] = append(m.byUser[MessageKey(msg.Tenant, msg.User)], k)
	if msg.To != "" && msg.To != msg.User {
		m.byUser[MessageKey(msg.Tenant, msg.To)] = append(m.byUser[MessageKey(msg.Tenant, msg.To)], k)
	}
	return msg, true, nil
}

// MarkCleared implements Store.
func (m *MemoryStore) MarkCleared(ctx context.Context, tenant, id, by string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	msg, ok := m.messages[MessageKey(tenant, id)]
	if !ok {
		return fmt.Errorf("mark %s/%s cleared: %w", tenant, id, ErrNotFound)
	}
	msg.Cleared, msg.ClearedBy = true, by
	return nil
}

// Message implements Store.
func (m *MemoryStore) Message(ctx context.Context, tenant, id string) (Message, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return Message{}, err
	}
	msg, ok := m.messages[MessageKey(tenant, id)]
	if !ok {
		return Message{}, fmt.Errorf("message %s/%s: %w", tenant, id, ErrNotFound)
	}
	return *msg, nil
}

// Inbox implements Store.
func (m *MemoryStore) Inbox(ctx context.Context, tenant, user string, limit int) ([]Message, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	keys := m.byUser[MessageKey(tenant, user)]
	out := make([]Message, 0, min(limit, len(keys)))
	for i := len(keys) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, *m.messages[keys[i]])
	}
	return out, nil
}

// Ping implements Store.
func (m *MemoryStore) Ping(ctx context.Context) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.check(ctx)
}

// MessageKeys returns the key of every stored message with its count (always
// 1: the key is unique), the same shape as ListMessageIDs.
func (m *MemoryStore) MessageKeys() map[string]int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]int, len(m.messages))
	for k := range m.messages {
		out[k] = 1
	}
	return out
}
