package locker

import (
	"context"
	"errors"
	"time"
)

// waiting is the state of one Lock call that waits for the lock, in the
// steps of its loop: re-date its claim file (redate), try to take the lock
// (take), break it or sweep if it is busy (busy), and back off until the
// next try (startWatch, backOff).
type waiting struct {
	l        *Lock
	op       string
	ctx      context.Context
	deadline time.Time // zero: no timeout

	// A watch kept from an earlier wait serves from the start; otherwise
	// one starts only once the lock is found busy, so that an uncontended
	// Lock does not pay for it (see wait.go).
	watch      *dirWatch
	watchTried bool
	woken      bool // the watch ended the last wait

	wait     backoff
	last     observation // the last look at the lock file
	lastFull time.Time   // when the lock file was last read, not glanced at
	waited   bool        // found the lock busy

	// The claim file is dated again every third of the lifetime while it
	// waits (see waitclaim.go).
	claimDue  time.Time
	claimGone bool
}

func (l *Lock) startWaiting(ctx context.Context, op string) *waiting {
	wt := &waiting{
		l: l, op: op, ctx: ctx,
		watch:    l.useWatch(false),
		wait:     backoff{min: l.minWait, max: l.maxWait},
		claimDue: l.clock.Now().Add(l.redateEvery()),
	}
	wt.watchTried = wt.watch != nil
	if l.timeout > 0 {
		wt.deadline = l.clock.Now().Add(l.timeout)
	}
	return wt
}

// stop lets go of the watch, if any.
func (wt *waiting) stop() {
	if wt.watch != nil {
		wt.l.doneWithWatch(wt.watch)
	}
}

// redate dates the claim file again when it is due, or writes it again
// when the last try found it gone.
func (wt *waiting) redate() {
	wt.claimDue = wt.l.tendClaim(wt.claimDue, wt.claimGone)
}

// take makes one attempt to take the lock. A lock file seen lately may be
// glanced at (a stat) instead of read (see glance).
func (wt *waiting) take(first bool) result {
	var seen *observation
	if wt.last.exists && wt.last.isClaim && wt.l.clock.Now().Sub(wt.lastFull) < fullLookEvery {
		seen = &wt.last
	}
	r := wt.l.attempt(wt.op, first, seen)
	wt.claimGone = r.outcome == again && isNotExist(r.err)
	return r
}

// acquired finishes a Lock that took the lock: it gives up the watch if it
// waited (see wait.go) and takes a fencing token (see fence.go).
func (wt *waiting) acquired() error {
	wt.l.noteAcquired(wt.waited)
	if wt.waited && wt.watch != nil {
		wt.l.retireWatch(wt.watch)
	}
	if err := wt.l.fence(wt.op); err != nil {
		return err
	}
	wt.l.sweepAfterTaking() // see sweep.go
	return nil
}

// busy takes note of a lock found held by someone else, and breaks it if
// it has been expired for longer than the slop. It reports whether it
// broke it (the next try then follows at once), and fails only if the
// lock path holds an object that no lock makes.
func (wt *waiting) busy(r result) (broke bool, err error) {
	l := wt.l
	wt.waited = true
	l.noteBusy()
	if wt.last.exists && changedHands(wt.last.info, r.obs.info) {
		wt.wait.limit(l.turnPoll()) // see wait.go
	}
	if !r.obs.glanced {
		wt.lastFull = l.clock.Now()
	}
	wt.last = r.obs
	if l.expired(r.obs.info.ModTime) {
		broke, err := l.breakLock(r.obs)
		if errors.Is(err, ErrForeignFile) {
			return false, l.abandon(wt.op, wt.last, err)
		}
		if err != nil {
			l.log.Warn("breaking expired lock failed", "err", err)
		}
		if broke {
			return true, nil
		}
	}
	l.maybeSweep() // see sweep.go
	return false, nil
}

// startWatch starts watching the directory the first time the lock is
// found busy, and reports whether it did: the lock must then be looked at
// again before the wait, lest a release before the watch began go unseen.
func (wt *waiting) startWatch() bool {
	if wt.watch != nil || wt.watchTried {
		return false
	}
	wt.watchTried = true
	wt.watch = wt.l.useWatch(true)
	return wt.watch != nil
}

// backOff waits until the next try: the next step of the backoff, cut
// short by a release the watch reports, by the claim file's next date,
// and by the deadline. It fails when the deadline passes or the context is
// done, leaving no claim file behind.
func (wt *waiting) backOff(r result) error {
	l, w := wt.l, wt.watch
	d := wt.wait.next()
	var events <-chan struct{}
	if w != nil {
		events = w.events
	}
	// A waiter that a release woke and that was beaten to the lock
	// pauses its watch until its next poll (see wait.go).
	paused := wt.woken && r.outcome == busy && w.canPause()
	if paused {
		events, d = nil, l.pauseFor()
	}
	d = min(d, max(wt.claimDue.Sub(l.clock.Now()), 0))
	if !wt.deadline.IsZero() {
		left := wt.deadline.Sub(l.clock.Now())
		if left <= 0 {
			return l.abandon(wt.op, wt.last, &timeoutError{after: l.timeout})
		}
		d = min(d, left)
	}
	if paused {
		w.expect(ReportNothing)
	}
	var err error
	wt.woken, err = l.sleep(wt.ctx, d, events)
	if paused {
		w.expect(ReportDepartures)
	}
	if err != nil {
		return l.abandon(wt.op, wt.last, asTimeout(err))
	}
	if wt.woken {
		wt.wait = backoff{min: l.minWait, max: l.maxWait}
	}
	return nil
}

// asTimeout marks a context's deadline as a timeout (ErrTimeout), as the
// timeout of WithTimeout is.
func asTimeout(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &timeoutError{ctx: err}
	}
	return err
}
