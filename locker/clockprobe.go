package locker

import (
	"fmt"
	"time"
)

// MeasureClockOffset estimates the file server's clock minus this host's, as
// Lock does before its first attempt, without taking the lock: it writes
// this Lock's claim file (no link is made, so the lock is not touched),
// reads the time the server gave it and removes it again. It returns the
// estimate, also kept for ClockOffset, State and Break. Where the
// filesystem keeps whole seconds and the lifetime is too short for that, it
// returns an error wrapping ErrInvalid, as Lock would.
//
// A Lock that holds its lock, or has measured within the last minute,
// returns its last estimate without writing anything: rewriting the claim
// file of a held lock would truncate the live lock file under its readers.
// With WithServerTime(false) it returns zero.
func (l *Lock) MeasureClockOffset() (time.Duration, error) {
	const op = "clock"
	l.mu.Lock()
	skip := !l.serverTime || l.held || (!l.measuredAt.IsZero() && l.clock.Now().Sub(l.measuredAt) < skewInterval)
	off := l.offset
	l.mu.Unlock()
	if skip {
		return off, nil
	}
	err := l.writeClaimAndMeasure()
	if rerr := l.removeIfExists(l.claim); rerr != nil {
		err = appendErr(err, fmt.Errorf("removing claim file: %w", rerr))
	}
	if err != nil {
		return l.ClockOffset(), &Error{Op: op, Path: l.path, Err: err}
	}
	return l.ClockOffset(), nil
}
