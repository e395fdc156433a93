package locker

import (
	"context"
	"errors"
	"fmt"
)

// Do takes the lock, runs fn while keeping the lock alive, and releases it,
// whatever happens: it is Lock, KeepAlive, fn and Unlock in one call, done
// right.
//
// fn runs with the KeepAlive's context (see KeepAlive.Context): it is
// cancelled when ctx is done or when the lock is lost, and then
// context.Cause says which. fn should stop writing as soon as it is done.
//
// Do returns the error of Lock if the lock could not be taken (fn does not
// run), and otherwise fn's error, with two exceptions:
//
//   - if the lock was lost while fn ran (broken after it expired, or
//     replaced), Do returns an error wrapping ErrLost, and fn's error too if
//     it returned one: the work ran, at least in part, without the lock;
//   - if releasing the lock fails, that error is added to fn's.
//
// If fn panics, Do releases the lock and the panic goes on, with its
// original stack; an error releasing the lock is then logged (see
// WithLogger), since it cannot be returned.
func (l *Lock) Do(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if err := l.Lock(ctx); err != nil {
		return err
	}
	return l.doHeld(ctx, fn, l.Unlock)
}

// doHeld is Do once l holds the lock: it keeps it alive while fn runs and
// releases it with unlock (l.Unlock, or the release of the shared lock or
// semaphore l is part of).
func (l *Lock) doHeld(ctx context.Context, fn func(ctx context.Context) error, unlock func() error) (err error) {
	ka, err := l.KeepAlive(ctx)
	if err != nil {
		lost, rerr := l.releaseAfterDo(nil, unlock)
		return joinErrs(lost, err, rerr)
	}
	returned := false
	defer func() {
		lost, rerr := l.releaseAfterDo(ka, unlock)
		if !returned { // fn panicked, or called runtime.Goexit
			if err := joinErrs(lost, rerr); err != nil {
				l.log.Error("releasing the lock after the work panicked", "err", err)
			}
			return
		}
		err = joinErrs(lost, err, rerr)
	}()
	err = fn(ka.Context())
	returned = true
	return err
}

// releaseAfterDo stops the KeepAlive ka, if not nil, and releases the lock.
// It returns an error wrapping ErrLost if the lock was lost on the way (ka
// saw it, or Unlock found it no longer held), and any other error of the
// release.
func (l *Lock) releaseAfterDo(ka *KeepAlive, unlock func() error) (lost, release error) {
	if ka != nil {
		ka.Stop()
		lost = ka.Err()
	}
	err := unlock()
	switch {
	case err == nil:
	case errors.Is(err, ErrNotLocked):
		// Not held at the end: it was lost while the work ran, whether
		// or not the KeepAlive had noticed yet.
		var e *Error
		switch {
		case lost == nil:
			lost = &Error{Op: "do", Path: l.path, Err: fmt.Errorf("%w: found at release: %w", ErrLost, err)}
		case !errors.As(err, &e) || e.Err != ErrNotLocked:
			release = err // more than the loss ka reported
		}
	default:
		release = err
	}
	return lost, release
}

// joinErrs combines the non-nil errors in errs: nil if there are none, the
// error itself if there is one, and the errors in one line, "a; b", if
// there are more.
func joinErrs(errs ...error) error {
	var nonNil []error
	for _, err := range errs {
		if err != nil {
			nonNil = append(nonNil, err)
		}
	}
	switch len(nonNil) {
	case 0:
		return nil
	case 1:
		return nonNil[0]
	}
	return appendErr(nonNil[0], nonNil[1:]...)
}
