package fakeprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// send stores and clears a message; see the package doc for exactly-once.
func (p *Provider) send(w http.ResponseWriter, r *http.Request, s Session) {
	if !parseForm(w, r) {
		return
	}
	id, to, body := r.PostForm.Get("id"), r.PostForm.Get("to"), r.PostForm.Get("body")
	switch {
	case !validName(id, maxIDLen):
		writeJSON(w, http.StatusBadRequest, errBody("form field id must be 1–128 printable ASCII characters"))
		return
	case to != "" && !validName(to, maxUserLen):
		writeJSON(w, http.StatusBadRequest, errBody("form field to must be 1–64 printable ASCII characters"))
		return
	case !validBody(body):
		writeJSON(w, http.StatusBadRequest, errBody("form field body must be valid UTF-8 of at most 16 KiB"))
		return
	}
	key := MessageKey(s.Tenant, id)
	unlock, err := p.lockKey(r.Context(), key)
	if err != nil {
		return // the client gave up while another send of this id ran
	}
	defer unlock()

	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	m, created, err := p.cfg.Store.PutMessage(ctx, Message{
		Tenant: s.Tenant, ID: id, User: s.User, To: to, Body: body, Created: time.Now().UTC(),
	})
	if err != nil {
		p.storeFailed(w, r, "storing the message", err)
		return
	}
	if m.User != s.User {
		writeJSON(w, http.StatusConflict, errBody("message id "+id+" is taken by another user; choose a new id"))
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	if m.Cleared {
		writeJSON(w, status, m)
		return
	}
	by, err := p.clear(r.Context(), m)
	p.log.Debug("cleared", "tenant", m.Tenant, "id", m.ID, "clearing", by, "err", err)
	if err != nil && p.cfg.Broken.SingleClearing {
		// Broken on purpose: acknowledged as if it were queued for a
		// clearing that never comes.
		p.log.Debug("clearing failed, acknowledged anyway (broken)", "tenant", m.Tenant, "id", m.ID, "err", err)
		writeJSON(w, http.StatusCreated, m)
		return
	}
	if err != nil {
		p.log.Debug("clearing failed", "tenant", m.Tenant, "id", m.ID, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errBody("clearing unavailable; the message is stored, retry the send"))
		return
	}
	// A fresh deadline: the clearing may have used up the first one.
	mctx, mcancel := context.WithTimeout(context.WithoutCancel(r.Context()), storeTimeout)
	defer mcancel()
	if err := p.cfg.Store.MarkCleared(mctx, m.Tenant, m.ID, p.cfg.ID); err != nil {
		p.storeFailed(w, r, "recording the clearing", err)
		return
	}
	m.Cleared, m.ClearedBy = true, p.cfg.ID
	writeJSON(w, status, m)
}

// lockKey serialises sends of one message id within this provider.
func (p *Provider) lockKey(ctx context.Context, key string) (func(), error) {
	for {
		p.mu.Lock()
		ch, busy := p.inflight[key]
		if !busy {
			ch = make(chan struct{})
			p.inflight[key] = ch
			p.mu.Unlock()
			return func() {
				p.mu.Lock()
				delete(p.inflight, key)
				p.mu.Unlock()
				close(ch)
			}, nil
		}
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for another send of %s: %w", key, ctx.Err())
		}
	}
}

// ClearRequest is the body of POST /clear.
type ClearRequest struct {
	Tenant   string `json:"tenant"`
	ID       string `json:"id"`
	Provider string `json:"provider"`
}

// clear clears m with the first clearing endpoint that answers 2xx within
// ClearingTimeout, in order; it returns the endpoint used.
func (p *Provider) clear(ctx context.Context, m Message) (string, error) {
	if len(p.cfg.Clearing) == 0 {
		return "", nil
	}
	body, err := json.Marshal(ClearRequest{Tenant: m.Tenant, ID: m.ID, Provider: p.cfg.ID})
	if err != nil {
		return "", fmt.Errorf("encode clearing of %s/%s: %w", m.Tenant, m.ID, err)
	}
	var errs []error
	endpoints := p.cfg.Clearing
	if p.cfg.Broken.SingleClearing {
		endpoints = endpoints[:1]
	}
	for _, base := range endpoints {
		if err := p.clearOnce(ctx, base, body); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		return base, nil
	}
	return "", fmt.Errorf("clear %s/%s: every endpoint failed: %w", m.Tenant, m.ID, errors.Join(errs...))
}

func (p *Provider) clearOnce(ctx context.Context, base string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ClearingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/clear", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("clearing %s: build request: %w", base, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("clearing %s: %w", base, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // drain so the connection is reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("clearing %s: status %s", base, resp.Status)
	}
	return nil
}
