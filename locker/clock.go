package locker

import (
	"context"
	"time"
)

// Clock is the locker's only source of time. The default, [RealClock], is the
// system clock; an in-memory backend supplies a virtual clock so that tests of
// 15-second lifetimes run in microseconds and are repeatable.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep pauses for d, or until ctx is done, whichever comes first. It
	// returns ctx.Err() if ctx ended the wait and nil otherwise.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the system clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits on a timer for d or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
