package leadcycle

import (
	"sync"
	"time"
)

// Clock tells the time. Storage and services take one so that tests can fix it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, truncated to microseconds (the precision both
// databases store).
type SystemClock struct{}

// Now returns the current time in UTC, truncated to microseconds.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// FixedClock is a settable clock for tests. The zero value starts at 2026-01-01.
type FixedClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixedClock returns a clock standing at t.
func NewFixedClock(t time.Time) *FixedClock {
	return &FixedClock{t: t.UTC().Truncate(time.Microsecond)}
}

// Now returns the clock's time.
func (c *FixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return c.t
}

// Advance moves the clock forward by d.
func (c *FixedClock) Advance(d time.Duration) {
	now := c.Now()
	c.mu.Lock()
	c.t = now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *FixedClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC().Truncate(time.Microsecond)
	c.mu.Unlock()
}
