// Package vclock is a virtual clock for tests of locks: it implements
// locker.Clock, and its time moves only when the test moves it, so a lock
// with a 15-second lifetime is tested in microseconds and always the same
// way. The conformance suite drives every backend's locks with it, and the
// in-memory backend stamps its files with it.
package vclock

import (
	"context"
	"sync"
	"time"

	"github.com/nfslock/nfslock/locker"
)

var _ locker.Clock = (*Clock)(nil)

// Clock is a virtual clock: time moves only when a test says so. It
// implements locker.Clock, so a lock driven by it measures lifetimes,
// timeouts and backoff in virtual time, and a test of a 15-second lifetime
// runs in microseconds.
//
// A Clock has two modes. In manual mode, the default, Sleep blocks until
// Advance or Set moves the clock to or past the sleeper's deadline, or until
// its context is done. In auto-advance mode (see AutoAdvance) Sleep moves the
// clock forward by the requested duration itself and returns at once, which
// suits a test with a single goroutine that would otherwise wait for itself.
//
// A Clock is safe for concurrent use. Its zero value is not usable; create
// one with New.
type Clock struct {
	mu       sync.Mutex
	now      time.Time
	auto     bool
	sleepers map[*sleeper]struct{}
	// changed is closed, and replaced, whenever the number of sleepers
	// changes, so that BlockUntilSleepers can wait without polling.
	changed chan struct{}
}

// A sleeper is one goroutine blocked in Sleep.
type sleeper struct {
	until time.Time
	wake  chan struct{} // closed by the clock when until is reached
	woken bool
}

// New returns a Clock in manual mode that reads start until it is moved.
func New(start time.Time) *Clock {
	return &Clock{
		now:      start,
		sleepers: make(map[*sleeper]struct{}),
		changed:  make(chan struct{}),
	}
}

// AutoAdvance switches auto-advance mode on or off and returns c, so that
// New(start).AutoAdvance(true) reads as one expression. Goroutines
// already blocked in Sleep are not affected by the switch; they wake when the
// clock reaches their deadlines, which in auto-advance mode other sleepers
// can bring about.
func (c *Clock) AutoAdvance(on bool) *Clock {
	c.mu.Lock()
	c.auto = on
	c.mu.Unlock()
	return c
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep pauses until the clock has moved d past the moment of the call, or
// until ctx is done, like locker.RealClock.Sleep: it returns ctx.Err() if ctx
// ended the wait (or was already done) and nil otherwise. A d of zero or less
// returns ctx.Err() at once. In auto-advance mode Sleep advances the clock by
// d, waking any other sleepers whose deadlines that passes, and returns nil.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.auto {
		c.setLocked(c.now.Add(d))
		c.mu.Unlock()
		return nil
	}
	s := &sleeper{until: c.now.Add(d), wake: make(chan struct{})}
	c.sleepers[s] = struct{}{}
	c.notifyLocked()
	c.mu.Unlock()

	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.woken {
		// The clock reached the deadline while ctx was ending; the sleep
		// was complete, as it would be had the timer fired first.
		return nil
	}
	delete(c.sleepers, s)
	c.notifyLocked()
	return ctx.Err()
}

// Advance moves the clock forward by d and wakes every sleeper whose deadline
// is now reached. When Advance returns, those sleepers are no longer counted
// by Sleepers. A negative d moves the clock back, like Set.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set sets the clock to t and wakes every sleeper whose deadline is t or
// earlier. Setting the clock back is allowed; sleepers wait for a fixed
// instant, so they then wait longer.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

func (c *Clock) setLocked(t time.Time) {
	c.now = t
	woke := false
	for s := range c.sleepers {
		if !s.until.After(t) {
			s.woken = true
			close(s.wake)
			delete(c.sleepers, s)
			woke = true
		}
	}
	if woke {
		c.notifyLocked()
	}
}

// Sleepers returns the number of goroutines blocked in Sleep.
func (c *Clock) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}

// BlockUntilSleepers waits until at least n goroutines are blocked in Sleep,
// so that a test can be sure they are all waiting before it calls Advance.
// It returns nil once they are, or ctx.Err() if ctx is done first.
func (c *Clock) BlockUntilSleepers(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.sleepers) >= n {
			c.mu.Unlock()
			return nil
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}
