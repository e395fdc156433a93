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
	l.background.Wait()
	o, err := l.observe()
	if err != nil {
		return &Error{Op: op, Path: l.path, Err: err}
	}
	owned := l.owns(o)
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
	if !owned && !unconditional && errs == nil {
		errs = ErrNotLocked
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

// removeLockFile removes the lock file, which o showed to be ours. While our
// lock is unexpired no one may break it, so a plain remove is safe. Once it
// has expired a breaker may be at work: then remove it under the break lock,
// after checking again that it is ours.
func (l *Lock) removeLockFile(o observation) error {
	if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {
		return l.removeIfExists(l.path)
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

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
