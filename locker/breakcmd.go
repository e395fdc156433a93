package locker

import (
	"fmt"
	"path/filepath"
)

// Breaking a lock on request, for an operator (the nfslock command's
// break). A waiting Lock breaks an expired lock on its way to taking it;
// these calls break without taking, through the same break lock, so that
// they never race with a waiter's break.

// Break breaks the lock, whoever holds it, if it has been expired for
// longer than the clock slop, as a waiting Lock would, and removes its
// holder's claim file. It does not take the lock. It returns the holder
// whose lock it removed.
//
// It returns an *Error wrapping ErrBusy, naming the holder, if the lock has
// not been expired for that long; ErrNotLocked if there is no lock file (or
// it was released or broken by someone else meanwhile); ErrForeignFile if
// the lock path holds a file that is not a lock, which is never touched. If
// another process is breaking the lock at the same moment, Break waits for
// it, as long as the break lock can be held (about its lifetime plus the
// slop), and then looks again; if the break lock stays busy for longer, the
// error wraps ErrTimeout.
func (l *Lock) Break() (Details, error) {
	const op = "break"
	wait := backoff{min: l.minWait, max: l.maxWait}
	deadline := l.clock.Now().Add(l.breakLifetime() + l.slop + l.maxWait)
	for {
		o, err := l.observe()
		switch {
		case err != nil:
			return Details{}, &Error{Op: op, Path: l.path, Err: err}
		case !o.exists:
			return Details{}, &Error{Op: op, Path: l.path, Err: ErrNotLocked}
		case !o.isClaim:
			return Details{}, &Error{Op: op, Path: l.path, Err: fmt.Errorf("%w (it contains %q)", ErrForeignFile, excerpt(o.contents))}
		case !l.expired(o.info.ModTime):
			return Details{}, &Error{Op: op, Path: l.path, Holder: o.details(),
				Err: fmt.Errorf("%w: not expired for longer than the clock slop (%v)", ErrBusy, l.slop)}
		}
		broke, err := l.breakLock(o)
		if err != nil {
			return Details{}, &Error{Op: op, Path: l.path, Holder: o.details(), Err: err}
		}
		if broke {
			return *o.details(), nil
		}
		// Another breaker holds the break lock, or the lock changed since
		// we looked: look again.
		if !l.clock.Now().Before(deadline) {
			return Details{}, &Error{Op: op, Path: l.path, Holder: o.details(), Err: fmt.Errorf("%w: the break lock %s stayed busy", ErrTimeout, l.breakPath)}
		}
		l.clock.Sleep(noCancel, wait.next())
	}
}

// ForceBreak breaks the lock whether or not it has expired, provided it is
// still held by holder (the same host, pid and lock file name; the expiry
// may have moved on), and removes the holder's claim file. It is for an
// operator who knows the holder is gone for good: a holder that is in fact
// still running loses its lock (its KeepAlive, Refresh, IsLocked and Unlock
// say so), and until it notices it may act as if it held it while another
// process takes the lock. The caller shows the operator whose lock it is,
// usually from Details, and passes the same Details here.
//
// ForceBreak works under the break lock, as Break does, and moves the lock
// file aside and checks it before removing it. It returns an *Error
// wrapping ErrNotLocked if there is no lock file, ErrBusy (naming the new
// holder) if the lock is now held by someone other than holder, and
// ErrForeignFile if the lock path holds a file that is not a lock.
func (l *Lock) ForceBreak(holder Details) error {
	const op = "break"
	var seen observation
	var outcome error
	err := l.underBreakLock(func() error {
		o, err := l.observe()
		if err != nil {
			return err
		}
		seen = o
		switch {
		case !o.exists:
			outcome = ErrNotLocked
			return nil
		case !o.isClaim:
			outcome = fmt.Errorf("%w (it contains %q)", ErrForeignFile, excerpt(o.contents))
			return nil
		case o.claim.host != holder.Hostname || o.claim.pid != holder.PID || o.claim.lockFile != holder.LockFile:
			outcome = fmt.Errorf("%w: the lock changed hands", ErrBusy)
			return nil
		}
		removed, err := l.removeAside(l.path, o.contents, func(FileInfo) bool { return true })
		if !removed {
			if err == nil {
				outcome = fmt.Errorf("%w: the lock changed while it was being broken", ErrBusy)
			}
			return err
		}
		l.log.Warn("broke a lock on request", "holder_host", o.claim.host, "holder_pid", o.claim.pid, "expires", o.info.ModTime)
		if claimFile := filepath.Join(l.dir, baseName(o.claim.name)); claimFile != l.claim {
			if rerr := l.removeIfExists(claimFile); rerr != nil {
				err = appendErr(err, fmt.Errorf("removing the holder's claim file: %w", rerr))
			}
		}
		return err
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		var who *Details
		if outcome != nil {
			who = seen.details()
		}
		return &Error{Op: op, Path: l.path, Holder: who, Err: err}
	}
	return nil
}
