package fakeprovider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// totalCounts sums the counts of several clearing services.
func totalCounts(cs ...*Clearing) map[string]int {
	out := map[string]int{}
	for _, c := range cs {
		for k, v := range c.Counts() {
			out[k] += v
		}
	}
	return out
}

func TestClearingFailsOverAndClearsEachMessageOnce(t *testing.T) {
	faults := []struct {
		name    string
		inject  func(c *Clearing)
		recover func(c *Clearing)
	}{
		{"healthy", func(*Clearing) {}, func(*Clearing) {}},
		{"killed", func(c *Clearing) { c.Kill() }, func(c *Clearing) { require.NoError(t, c.Start(context.Background())) }},
		{"failing", func(c *Clearing) { c.SetFailing(true) }, func(c *Clearing) { c.SetFailing(false) }},
		{"hung", func(c *Clearing) { c.SetHang(true) }, func(c *Clearing) { c.SetHang(false) }},
		{"slow", func(c *Clearing) { c.SetDelay(time.Second) }, func(c *Clearing) { c.SetDelay(0) }},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			c1, c2 := startClearing(t, "c1"), startClearing(t, "c2")
			p := newTestProvider(t, Config{Clearing: []string{c1.URL(), c2.URL()}, ClearingTimeout: 200 * time.Millisecond})
			u := newUser(t, p.Handler(), "abc.test", "alice")
			u.login()
			require.Equal(t, 201, u.send("before", "x").Code)
			f.inject(c1)
			for i := range 5 {
				rec := u.send(fmt.Sprintf("during-%d", i), "x")
				require.Equal(t, 201, rec.Code, rec.Body.String())
				assert.True(t, decode[Message](t, rec).Cleared)
			}
			f.recover(c1)
			require.Equal(t, 201, u.send("after", "x").Code)

			counts := totalCounts(c1, c2)
			require.Len(t, counts, 7, "every acknowledged message was cleared")
			for k, n := range counts {
				assert.Equal(t, 1, n, "%s cleared %d times", k, n)
			}
			assert.Equal(t, 1, c1.Counts()[MessageKey("abc.test", "before")], "the first endpoint is preferred")
			if f.name != "healthy" {
				assert.Equal(t, 5, len(c2.Counts())-c2.Counts()[MessageKey("abc.test", "after")], "failed over to c2")
			}
		})
	}
}

func TestRetriedSendClearsOnce(t *testing.T) {
	c1 := startClearing(t, "c1")
	store := NewMemoryStore()
	p := newTestProvider(t, Config{Store: store, Clearing: []string{c1.URL()}, ClearingTimeout: 200 * time.Millisecond})
	u := newUser(t, p.Handler(), "abc.test", "alice")
	u.login()

	t.Run("lost acknowledgement: the retry finds it stored and cleared", func(t *testing.T) {
		require.Equal(t, 201, u.send("m1", "x").Code)
		for range 3 {
			require.Equal(t, 200, u.send("m1", "x").Code)
		}
		assert.Equal(t, 1, c1.Counts()[MessageKey("abc.test", "m1")])
	})
	t.Run("clearing down: 503, stored, the retry clears it once", func(t *testing.T) {
		c1.SetFailing(true)
		rec := u.send("m2", "x")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		m, err := store.Message(context.Background(), "abc.test", "m2")
		require.NoError(t, err, "not lost")
		assert.False(t, m.Cleared)
		c1.SetFailing(false)
		require.Equal(t, 200, u.send("m2", "x").Code)
		require.Equal(t, 200, u.send("m2", "x").Code)
		assert.Equal(t, 1, c1.Counts()[MessageKey("abc.test", "m2")])
	})
	t.Run("concurrent sends of one id clear once", func(t *testing.T) {
		// Each goroutine is its own session (a retry from another connection).
		var wg sync.WaitGroup
		codes := make(chan int, 8)
		for range 8 {
			v := newUser(t, p.Handler(), "abc.test", "alice")
			v.login()
			wg.Go(func() { codes <- v.send("m3", "x").Code })
		}
		wg.Wait()
		close(codes)
		created := 0
		for c := range codes {
			require.Contains(t, []int{200, 201}, c)
			if c == 201 {
				created++
			}
		}
		assert.Equal(t, 1, created)
		assert.Equal(t, 1, c1.Counts()[MessageKey("abc.test", "m3")])
	})
}

func TestClearingRejectsBadRequests(t *testing.T) {
	c := NewClearing("c1")
	for _, body := range []string{"", "{", `{"tenant":"abc.test"}`, `{"tenant":"a b","id":"x"}`, `{"tenant":"abc.test","id":"` + string(make([]byte, 5000)) + `"}`} {
		req, _ := http.NewRequest("POST", "http://c/clear", stringsReader(body))
		rec := newRecorder(c.Handler(), req)
		assert.GreaterOrEqual(t, rec.Code, 400, body)
		assert.Less(t, rec.Code, 500, body)
	}
	assert.Empty(t, c.Transactions())
}

// TestClearingIsIdempotentPerMessage: a provider whose database died after
// clearing and before noting it clears the message again (via the other
// provider); the service answers "cleared" and charges it once.
func TestClearingIsIdempotentPerMessage(t *testing.T) {
	c := NewClearing("c1")
	post := func(provider string) int {
		body := `{"tenant":"abc.test","id":"m1","provider":"` + provider + `"}`
		rec := newRecorder(c.Handler(), httptest.NewRequest("POST", "/clear", stringsReader(body)))
		return rec.Code
	}
	require.Equal(t, 200, post("p1"))
	require.Equal(t, 200, post("p2"), "a repeat is answered as cleared")
	key := MessageKey("abc.test", "m1")
	assert.Equal(t, 1, c.Counts()[key], "charged once")
	assert.Equal(t, 1, c.Repeats()[key], "the repeat is recorded")
	tx := c.Transactions()
	require.Len(t, tx, 2)
	assert.False(t, tx[0].Repeat)
	assert.True(t, tx[1].Repeat)
}
