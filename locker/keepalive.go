package locker

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrLost means a lock this Lock held was lost: another claimant broke it
// (after it expired) or replaced it, or refreshing it failed until it
// expired. Work guarded by the lock must stop.
var ErrLost = errors.New("lock lost")

// errKeepAliveStopped is the cause of a KeepAlive's context once it was
// stopped, or its lock released, without the lock being lost.
var errKeepAliveStopped = errors.New("keep-alive stopped")

// A KeepAlive refreshes a held lock in the background and tells when the
// lock is lost, in the manner of etcd's concurrency.Session. Start one with
// Lock.KeepAlive.
type KeepAlive struct {
	l      *Lock
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   context.CancelFunc // ends the refresh loop
	done   chan struct{}      // closed when the refresh loop has returned
	lost   chan struct{}      // closed when the lock is found lost

	mu  sync.Mutex
	err error // why the lock was lost
}

// KeepAlive starts refreshing the lock in the background, every third of its
// lifetime, until Unlock, Stop, or ctx is done. It returns an *Error
// wrapping ErrNotLocked if the lock is not held now, and one wrapping
// ErrAlreadyLocked if a KeepAlive is already running for this Lock.
//
// Refresh errors that may pass (ESTALE, EIO, ...) are retried with backoff;
// the lock is declared lost when a refresh finds another claim in the lock
// file or no lock file, or when refreshes keep failing until the lock has
// expired. A lost lock closes Lost and cancels Context, whose cause
// (context.Cause) is then an *Error wrapping ErrLost.
func (l *Lock) KeepAlive(ctx context.Context) (*KeepAlive, error) {
	const op = "keepalive"
	if !l.IsLocked() {
		return nil, &Error{Op: op, Path: l.path, Err: ErrNotLocked}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keepAlive != nil {
		return nil, &Error{Op: op, Path: l.path, Err: fmt.Errorf("%w: a keep-alive is already running", ErrAlreadyLocked)}
	}
	kctx, cancel := context.WithCancelCause(ctx)
	loopCtx, stop := context.WithCancel(kctx)
	k := &KeepAlive{l: l, ctx: kctx, cancel: cancel, stop: stop, done: make(chan struct{}), lost: make(chan struct{})}
	l.keepAlive = k
	go k.run(loopCtx)
	return k, nil
}

// Context returns a context that is cancelled when the lock is lost, when
// the KeepAlive stops (Stop, Unlock) or when the context passed to
// KeepAlive is done. A job writes under the lock only while it is not done.
func (k *KeepAlive) Context() context.Context { return k.ctx }

// Lost returns a channel that is closed when the lock is found lost. It is
// not closed by Stop or Unlock.
func (k *KeepAlive) Lost() <-chan struct{} { return k.lost }

// Err returns nil while the lock is not known to be lost, and then an *Error
// wrapping ErrLost and the error that showed it.
func (k *KeepAlive) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// Stop stops refreshing, without releasing the lock, and waits for the
// background work to end. It may be called more than once.
func (k *KeepAlive) Stop() {
	k.stop()
	<-k.done
	k.cancel(errKeepAliveStopped)
	k.l.mu.Lock()
	if k.l.keepAlive == k {
		k.l.keepAlive = nil
	}
	k.l.mu.Unlock()
}

func (k *KeepAlive) run(ctx context.Context) {
	defer close(k.done)
	l := k.l
	retry := backoff{min: l.minWait, max: l.maxWait}
	wait := l.Lifetime() / 3
	for {
		if err := l.clock.Sleep(ctx, wait); err != nil {
			return
		}
		err := l.Refresh()
		switch {
		case err == nil:
			retry = backoff{min: l.minWait, max: l.maxWait}
			wait = l.Lifetime() / 3
			continue
		case errors.Is(err, ErrNotLocked):
			k.declareLost(err)
			return
		}
		// Perhaps a passing failure: try again soon, unless the lock has
		// expired meanwhile.
		if l.mayBeBroken() {
			k.declareLost(err)
			return
		}
		l.log.Warn("refreshing the lock failed; retrying", "err", err)
		wait = retry.next()
	}
}

func (k *KeepAlive) declareLost(cause error) {
	err := &Error{Op: "keepalive", Path: k.l.path, Err: fmt.Errorf("%w: %w", ErrLost, cause)}
	k.mu.Lock()
	k.err = err
	k.mu.Unlock()
	k.l.log.Error("lock lost", "err", cause)
	k.cancel(err) // before closing lost: whoever Lost wakes sees the context done
	close(k.lost)
}

// stopKeepAlive stops this Lock's KeepAlive, if one runs.
func (l *Lock) stopKeepAlive() {
	l.mu.Lock()
	k := l.keepAlive
	l.mu.Unlock()
	if k != nil {
		k.Stop()
	}
}
