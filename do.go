package nfslock

import (
	"context"

	"github.com/nfslock/nfslock/locker"
)

// Do runs fn while holding the lock file path, on the backend of the
// platform the program is built for: it is [New] followed by
// [locker.Lock.Do]. It takes the lock (waiting as opts say), keeps it alive
// while fn runs, and releases it however fn ends, panics included.
//
// fn's context is cancelled when ctx is done or the lock is lost. Do returns
// the error of New or of taking the lock (fn then does not run), or fn's
// error; if the lock was lost while fn ran, the error wraps
// [locker.ErrLost], and fn's error too.
func Do(ctx context.Context, path string, fn func(ctx context.Context) error, opts ...locker.Option) error {
	lock, err := New(path, opts...)
	if err != nil {
		return err
	}
	return lock.Do(ctx, fn)
}
