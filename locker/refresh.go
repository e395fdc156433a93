package locker

import (
	"fmt"
	"time"
)

// Refresh extends a held lock: it sets its expiry to now plus the lifetime.
// It returns an *Error wrapping ErrNotLocked if this Lock does not hold the
// lock (including when it was broken after expiring: the caller must then
// stop relying on it).
func (l *Lock) Refresh() error { return l.refresh("refresh") }

// RefreshLifetime sets a new lifetime, for this and later acquisitions and
// refreshes, and then refreshes the lock like Refresh. The lifetime is set
// even if the lock is not held, as flufl.lock does.
func (l *Lock) RefreshLifetime(d time.Duration) error {
	if d <= 0 {
		return &Error{Op: "refresh", Path: l.path, Err: invalidf("lifetime %v is not positive", d)}
	}
	l.mu.Lock()
	l.lifetime = d
	l.mu.Unlock()
	return l.refresh("refresh")
}

func (l *Lock) refresh(op string) error {
	if l.mayBeBroken() {
		// Our lock has expired: a breaker may be at work. Refresh under
		// the break lock, so that a refresh that comes too late is seen
		// to have come too late. A refresh done under a break lock that
		// turned out not to be ours is done again (underBreakLockHolding): refreshing is
		// harmless to repeat, and the second refresh finds the lock lost
		// if the break lock's holder broke it meanwhile.
		return l.underBreakLockOp(op, func() error { return l.refreshNow(op) })
	}
	return l.refreshNow(op)
}

// underBreakLockOp is underBreakLockHolding for an operation on a held lock
// that returns an *Error, f serving also as its own confirmation.
func (l *Lock) underBreakLockOp(op string, f func() error) error {
	var ferr error
	g := func() error {
		ferr = f()
		return nil
	}
	if err := l.underBreakLockHolding(g, g); err != nil {
		return &Error{Op: op, Path: l.path, Err: err}
	}
	return ferr
}

func (l *Lock) refreshNow(op string) error {
	// Dating our own claim file is harmless whether or not we hold the
	// lock, so date first and check after: the check then covers the
	// refresh.
	//
	// A lock found lost is no longer held: the date just given to our
	// claim file is not the lock's expiry (the claim may even be linked to
	// the name a breaker moved the lock to), and Unlock must not release it
	// the quick way (see releaseHeld), which trusts that date.
	if err := l.touch(l.claim); err != nil {
		if isNotExist(err) {
			l.setHeld(false)
			return &Error{Op: op, Path: l.path, Err: fmt.Errorf("%w: claim file is gone: %w", ErrNotLocked, err)}
		}
		return &Error{Op: op, Path: l.path, Err: err}
	}
	o, err := l.observe()
	if err != nil {
		return &Error{Op: op, Path: l.path, Err: err}
	}
	if !l.owns(o) {
		l.setHeld(false)
		return &Error{Op: op, Path: l.path, Holder: o.details(), Err: ErrNotLocked}
	}
	return nil
}
