package locker

import (
	"errors"
	"fmt"
	"io/fs"
)

// Unlock releases the lock: it stops the KeepAlive, if one runs, then
// removes the lock file, then this Lock's claim file. If this Lock does not hold the lock (it never took it, released it,
// or lost it to a breaker after it expired) Unlock returns an *Error wrapping
// ErrNotLocked, after removing its own claim file if one remains; the lock
// file is then left alone.
func (l *Lock) Unlock() error { return l.unlock(false) }

// UnlockUnconditionally is like Unlock, but not holding the lock is not an
// error. It suits deferred cleanup.
func (l *Lock) UnlockUnconditionally() error { return l.unlock(true) }

func (l *Lock) unlock(unconditional bool) error {
	const op = "unlock"
	l.stopKeepAlive()
	if done, err := l.releaseHeld(); done {
		l.noteReleased() // see yieldTurn in wait.go
		if err != nil {
			return &Error{Op: op, Path: l.path, Err: err}
		}
		l.log.Debug("lock released")
		return nil
	}
	o, err := l.observe()
	if err != nil {
		return &Error{Op: op, Path: l.path, Err: err}
	}
	owned := l.owns(o)
	seenOurs := owned
	l.setHeld(false)
	var errs error
	if owned {
		if err := l.removeLockFile(o); err != nil {
			if !errors.Is(err, ErrNotLocked) {
				err = fmt.Errorf("removing lock file: %w", err)
			}
			errs = appendErr(errs, err)
			owned = false
		}
	}
	if err := l.removeIfExists(l.claim); err != nil {
		errs = appendErr(errs, fmt.Errorf("removing claim file: %w", err))
	}
	switch {
	case unconditional || seenOurs || errors.Is(errs, ErrNotLocked):
	case errs == nil:
		errs = ErrNotLocked
	default:
		// Not held, whatever else went wrong on the way.
		errs = appendErr(ErrNotLocked, errs)
	}
	if owned {
		l.noteReleased()
	}
	if errs != nil {
		var holder *Details
		if !owned {
			holder = o.details()
		}
		return &Error{Op: op, Path: l.path, Holder: holder, Err: errs}
	}
	l.log.Debug("lock released")
	return nil
}

// releaseHeld is the release of a lock this Lock took and has not yet seen
// expire, on a filesystem that counts links: the common case, made with
// three file operations instead of seven. It reports whether it did the
// release, with its error, as the long way would report it; if it did not,
// it changed nothing, and unlock goes the long way
// (read the lock file, judge it, remove it under the break lock if it may
// have expired).
//
// Ownership is checked on the claim file instead of the lock file: the
// claim file has a second link only while this Lock's link of it to the
// lock path stands (a claim file is linked nowhere else, and a lock file
// removed or replaced behind the holder's back leaves the claim with one
// link, or gone). Its modification time is the lock's expiry. While that is
// in the future, no breaker may touch the lock (breaking waits for expiry
// plus the clock slop, in the same server clock), so nothing can come
// between this check and the removal but a breaker that disregards the
// rules: a forced break, or one whose clock is wrong by more than the slop,
// which is no worse than for the long way, whose check comes just as
// early. An expired lock is left to the long way, which removes it under
// the break lock.
func (l *Lock) releaseHeld() (done bool, err error) {
	now := l.serverNow()
	l.mu.Lock()
	fast := l.held && l.linksKnown && !l.noLinks && now.Before(l.keptExpiry()) // see mayBeBroken
	l.mu.Unlock()
	if !fast {
		return false, nil
	}
	fi, err := l.fsys.Stat(l.claim)
	if err != nil || fi.Links != 2 || !now.Before(fi.ModTime) {
		return false, nil
	}
	err = l.removeOwn(l.path, l.confirmOurs)
	switch {
	case isNotExist(err):
		// Gone: this remove was done and its reply lost (the retried
		// request finds nothing, as NFS can), or, against the rules, it
		// was removed behind our back. The long way's remove takes ENOENT
		// as done too; the long way itself would now find no lock and
		// report a lock this Lock just released as never held.
		err = nil
	case err != nil:
		err = fmt.Errorf("removing lock file: %w", replacedLock(err))
	}
	l.setHeld(false)
	if cerr := l.removeIfExists(l.claim); cerr != nil {
		err = appendErr(err, fmt.Errorf("removing claim file: %w", cerr))
	}
	return true, err
}

// removeLockFile removes the lock file, which o showed to be ours. While our
// lock is unexpired no one may break it, so a plain remove is safe. Once it
// has expired a breaker may be at work: then remove it under the break lock,
// after checking again that it is ours.
func (l *Lock) removeLockFile(o observation) error {
	if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {
		if err := l.removeOwn(l.path, l.confirmOurs); !isNotExist(err) {
			return replacedLock(err)
		}
		return nil
	}
	lost := false
	err := l.underBreakLock(func() error {
		o, err := l.observe()
		if err != nil {
			return err
		}
		if !l.owns(o) {
			lost = true
			return nil
		}
		removed, err := l.removeAside(l.path, l.claim, func(FileInfo) bool { return true })
		lost = !removed
		return err
	})
	if lost && err == nil {
		return ErrNotLocked
	}
	return err
}

// replacedLock returns err, from a removal of the lock file or a look at
// it just before, wrapped with ErrNotLocked if it says that the lock path
// holds an object no lock makes: someone replaced our lock file with it, so
// the lock is no longer ours.
func replacedLock(err error) error {
	if !isForeignObject(err) || errors.Is(err, ErrNotLocked) {
		return err
	}
	return fmt.Errorf("%w: the lock file was replaced: %w", ErrNotLocked, asForeign(err))
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
