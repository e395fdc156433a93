package locker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// noCancel is the context of waits that nothing cancels (short pauses
// between retries of a read).
var noCancel = context.Background()

// TryLock makes one attempt to take the lock and never waits. It returns nil
// if the lock is now held by this Lock. Otherwise it returns an *Error
// wrapping ErrBusy (someone else holds it; the error names the holder),
// ErrAlreadyLocked (this Lock holds it already), ErrForeignFile, or the
// filesystem's error. Attempts that stay inconclusive (the lock file or the
// claim file vanishing under it, each time) also end in ErrBusy. An
// expired lock is broken and the attempt made once more. On failure no
// claim file is left behind.
func (l *Lock) TryLock() error {
	const op = "trylock"
	if err := l.checkHeld(op); err != nil {
		return err
	}
	if l.fair {
		// Waiters queue for the lock: a try does not pass them.
		switch ahead, err := l.newQueue().ahead(); {
		case err != nil:
			l.log.Warn("looking at the queue failed; trying the lock anyway", "err", err)
		case ahead:
			return &Error{Op: op, Path: l.path, Err: fmt.Errorf("%w: waiters queue for it", ErrBusy)}
		}
	}
	if err := l.prepareClaim(op); err != nil {
		return err
	}
	// One attempt, but an inconclusive one (the lock file vanished under
	// us, a transient error) is repeated at once (see retry.go).
	var r result
	retry(func(try int) bool {
		r = l.attempt(op, try == 0, nil)
		return r.outcome != again
	})
	if r.outcome == busy && l.expired(r.obs.info.ModTime) {
		if _, err := l.breakLock(r.obs); err != nil {
			if errors.Is(err, ErrForeignFile) {
				return l.abandon(op, r.obs, err)
			}
			l.log.Warn("breaking expired lock failed", "err", err)
		}
		r = l.attempt(op, false, nil)
	}
	switch r.outcome {
	case acquired:
		if err := l.fence(op); err != nil { // see fence.go
			return err
		}
		l.sweepAfterTaking() // see sweep.go
		return nil
	case failed:
		return r.err
	}
	cause := ErrBusy
	if r.err != nil {
		// Inconclusive every time: the lock file or the claim file kept
		// vanishing under us. Others are at work on the lock.
		cause = fmt.Errorf("%w: every attempt was inconclusive: %w", ErrBusy, r.err)
	}
	return l.abandon(op, r.obs, cause)
}

// Lock takes the lock, waiting while someone else holds it. It returns nil
// once this Lock holds the lock, or an *Error when it gives up:
//
//   - wrapping ErrTimeout when the timeout set by WithTimeout ran out, or the
//     context's deadline passed (then the error also satisfies
//     errors.Is(err, context.DeadlineExceeded)); the error names the holder;
//   - wrapping context.Canceled when the context was cancelled;
//   - wrapping ErrAlreadyLocked if this Lock already holds the lock;
//   - wrapping ErrForeignFile at once if the lock path holds a file that is
//     not a lock, or one of the lock's names an object no lock makes that
//     stops it (see ErrForeignFile);
//   - wrapping ErrBusy if its claim file is removed each time it is
//     written, before it can be dated (someone else at work in the
//     directory);
//   - wrapping the filesystem's error if the directory is missing or not
//     writable, or the filesystem fails in a way that retrying cannot cure.
//
// While it waits, Lock retries with a jittered backoff (see WithBackoff) and
// breaks the lock if it has been expired for longer than the clock slop. On
// failure no claim file is left behind.
//
// Lock is fair to other claimants without being slow: a Lock that takes
// the lock back as soon as it released it does so at once, but after 32
// such turns in a row, if it saw the lock busy within the last second and
// others' claim files wait beside the lock file, it leaves the free lock to
// them until one has taken it, for at most sixteen times the shortest
// backoff step (16 ms by default). A Lock of a lock that is free and that
// nobody else claims never waits.
func (l *Lock) Lock(ctx context.Context) error {
	const op = "lock"
	if err := ctx.Err(); err != nil {
		return &Error{Op: op, Path: l.path, Err: err}
	}
	if err := l.checkHeld(op); err != nil {
		return err
	}
	wt := l.startWaiting(ctx, op)
	defer wt.stop()
	if err := l.yieldTurn(ctx, wt.watch, wt.deadline); err != nil {
		return &Error{Op: op, Path: l.path, Err: asTimeout(err)}
	}
	if err := l.prepareClaim(op); err != nil {
		return err
	}
	var q *queue
	if l.fair {
		q = l.newQueue()
		defer q.leave()
	}
	for first := true; ; first = false {
		wt.redate()
		if q.behind() {
			// Another waiter comes first: wait for it to take the lock.
			if wt.startWatch() {
				continue
			}
			if err := wt.backOff(result{outcome: again}); err != nil {
				return err
			}
			continue
		}
		r := wt.take(first)
		switch r.outcome {
		case acquired:
			return wt.acquired()
		case failed:
			return r.err
		case busy:
			q.queue()
			broke, err := wt.busy(r)
			if err != nil {
				return err
			}
			if broke {
				continue
			}
		case again:
			l.log.Debug("lock attempt inconclusive, retrying", "err", r.err)
		}
		if wt.startWatch() {
			continue // a release before the watch began would go unseen: look again
		}
		if err := wt.backOff(r); err != nil {
			return err
		}
	}
}

// checkHeld refuses to take a lock this Lock already holds. Rewriting the
// claim file then would truncate the live lock file under other readers.
// An error reading the lock is returned, not taken for a lost lock: taking
// the lock afresh writes the claim file anew, which would leave a live lock
// file of ours that is no longer a link to our claim file.
func (l *Lock) checkHeld(op string) error {
	if !l.isHeld() {
		return nil
	}
	o, err := l.observe()
	ours := err == nil && l.owns(o)
	if ours {
		ours, err = l.confirmOurs()
	}
	switch {
	case err != nil:
		return &Error{Op: op, Path: l.path, Err: err}
	case ours:
		return &Error{Op: op, Path: l.path, Err: ErrAlreadyLocked}
	}
	l.setHeld(false) // lost since; take it afresh
	return nil
}

// prepareClaim writes the claim file and dates it now plus the lifetime.
// A claim file that vanishes between its write and its date (someone else
// at work in the directory removed it) is written again, a few times.
func (l *Lock) prepareClaim(op string) error {
	var err error
	vanished := false
	if retry(func(int) bool {
		err = l.writeClaimAndMeasure()
		if err == nil {
			err = l.touch(l.claim)
		}
		vanished = err != nil && isNotExist(err) && l.dirExists()
		return !vanished
	}) && err == nil {
		return nil
	}
	switch {
	case errors.Is(err, ErrInvalid):
	case vanished:
		err = fmt.Errorf("%w: the claim file %s was removed each time it was written, %d times: %w", ErrBusy, l.claim, maxTries, err)
	case errors.Is(err, fs.ErrNotExist):
		err = fmt.Errorf("directory %s does not exist: %w", l.dir, err)
	case errors.Is(err, fs.ErrPermission):
		err = fmt.Errorf("directory %s is not writable: %w", l.dir, err)
	}
	if rerr := l.removeIfExists(l.claim); rerr != nil {
		err = appendErr(err, fmt.Errorf("removing claim file: %w", rerr))
	}
	return &Error{Op: op, Path: l.path, Err: err}
}

// dirExists reports whether the lock's directory is there.
func (l *Lock) dirExists() bool {
	_, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.dir) })
	return err == nil
}

type outcome int

const (
	acquired outcome = iota // this Lock holds the lock
	busy                    // someone else holds it; obs says who
	again                   // nothing conclusive (the lock vanished, a transient error): try again
	failed                  // give up; err says why and the claim file is gone
)

type result struct {
	outcome outcome
	obs     observation
	err     error
}

// attempt links the claim file to the lock file and judges the outcome.
// first says that this is the first attempt of a TryLock or Lock, made
// right after the claim was dated; seen, if not nil, is an earlier full
// look at the lock file in this wait, which lets a busy lock be judged by a
// stat alone (see glance in wait.go).
func (l *Lock) attempt(op string, first bool, seen *observation) result {
	linkErr := l.fsys.Link(l.claim, l.path)
	if linkErr == nil {
		l.noteLinkCounts()
		if !l.acquired(first) {
			return result{outcome: again}
		}
		return result{outcome: acquired}
	}
	if seen != nil && errors.Is(linkErr, fs.ErrExist) {
		if r, ok := l.glance(*seen); ok {
			return r
		}
	}
	// On NFS a link can succeed while its reply is lost, and the retried
	// request then fails with EEXIST. Whatever the error, if the lock file
	// holds our unique claim name, our link made it and we hold the lock.
	o, err := l.observe()
	if err == nil && o.exists && o.contents == l.claim && (o.info.Links >= 2 || l.probeOwnLink(o)) {
		l.noteLinkCounts()
	}
	if err == nil && l.owns(o) && l.stillOurs() {
		l.log.Debug("link failed but the lock file is ours: reply lost", "err", linkErr)
		if !l.acquired(false) {
			return result{outcome: again}
		}
		return result{outcome: acquired}
	}
	switch {
	case errors.Is(linkErr, fs.ErrExist):
		if err != nil {
			if l.retryable(err) || errors.Is(err, fs.ErrNotExist) {
				return result{outcome: again, err: err}
			}
			return l.fail(op, err)
		}
		if !o.exists {
			// Released since our link failed. Never act on the earlier
			// observation: just try again.
			return result{outcome: again}
		}
		if !o.isClaim {
			// Look once more: a flufl.lock process rewrites its claim
			// file (truncating it) each time its lock() is called.
			if o2, err := l.observe(); err == nil && o2.exists && !o2.isClaim {
				return l.fail(op, o2.notALock())
			}
			return result{outcome: again}
		}
		return result{outcome: busy, obs: o}
	case errors.Is(linkErr, fs.ErrNotExist), l.retryable(linkErr):
		// flufl.lock retries ENOENT and ESTALE from link: caches on NFS
		// clients can make a just-written claim file briefly invisible.
		return result{outcome: again, obs: o, err: linkErr}
	}
	switch claimErr := l.ownFileIntact(l.claim); {
	case isForeignObject(claimErr):
		return l.fail(op, fmt.Errorf("%w: this Lock's claim file %s was replaced by something no lock makes: %w; %w", ErrForeignFile, l.claim, claimErr, linkErr))
	case isNotExist(claimErr), errors.Is(claimErr, errClaimReplaced):
		// Someone else at work in the directory removed or replaced our
		// claim file: the link failed for what is there now, not for
		// ours.
		return result{outcome: again, obs: o, err: fmt.Errorf("%w (%w)", linkErr, claimErr)}
	}
	// Our claim file looks intact, or cannot be read: the filesystem's
	// failure. But a refusal (EPERM) may have been of a directory that
	// someone put at the claim name and replaced since with a copy of our
	// claim file: a second link tells that from a refusal of the
	// filesystem's own, which comes again.
	if l.refusedOnce(linkErr, l.claim, l.path) {
		return result{outcome: again, obs: o, err: linkErr}
	}
	return l.fail(op, linkErr)
}

// refusedOnce reports, for a link of oldname to newname refused with
// linkErr, whether a second link says nothing of that refusal: it is made
// (the next look finds it ours), or fails as links fail in a race. Only a
// refusal of permission is tried again: any other failure of a link is the
// filesystem's, as flufl.lock's algorithm has it.
func (l *Lock) refusedOnce(linkErr error, oldname, newname string) bool {
	if !errors.Is(linkErr, fs.ErrPermission) {
		return false
	}
	err := l.fsys.Link(oldname, newname)
	return err == nil || errors.Is(err, fs.ErrExist) || isNotExist(err) || l.retryable(err)
}

// ownFileIntact looks whether name, this Lock's claim file or break claim
// (each holds its own name), is still its own, after a link of it failed
// with an error that says nothing of the name linked to: a link refused
// because of what is at name (a directory, which cannot be linked) is no
// failure of the filesystem's. It returns nil if name is a regular file
// that holds its own name, an error satisfying isForeignObject if
// something no lock makes is there, one satisfying fs.ErrNotExist if it is
// gone, errClaimReplaced if it holds anything else, and the read's error if
// it cannot be read.
func (l *Lock) ownFileIntact(name string) error {
	data, err := l.readRetrying(name)
	switch {
	case err != nil:
		return err
	case string(data) != name:
		return errClaimReplaced
	}
	return nil
}

// errClaimReplaced says that this Lock's claim file (or break claim) holds
// something other than its name.
var errClaimReplaced = errors.New("the claim file holds something else")

// acquired records that this Lock now holds the lock. The lifetime counts
// from acquisition, so the claim is dated again, unless this was the first
// attempt of the call, made right after the claim was dated (no more than
// freshClaim ago), as on a free lock: then the claim's date already is
// acquisition plus the lifetime, give or take that much, and the second
// utimensat of flufl.lock's algorithm is saved. It reports false, holding
// nothing, if re-dating finds the claim file gone or keeps failing.
func (l *Lock) acquired(first bool) bool {
	l.mu.Lock()
	fresh := first && l.clock.Now().Sub(l.datedAt) <= freshClaim(l.lifetime)
	l.mu.Unlock()
	if !fresh {
		// The lock file took our claim file's date when we linked it. If
		// that date has passed by more than the slop (we were paused
		// between dating the claim and linking it), a breaker may have
		// broken the lock between our link and this re-dating: we then
		// look again after it (a breaker moves the lock aside before it
		// checks its date, so a lock that is still in place once
		// re-dated is safe). Whether it has passed is judged once the
		// re-dating is done: a breaker's judgment comes before it, at
		// any time until then.
		l.mu.Lock()
		stale := l.expiry
		l.mu.Unlock()
		_, err := retrying(l, func() (struct{}, error) { return struct{}{}, l.touch(l.claim) })
		mayBeBroken := l.expired(stale)
		if err == nil && mayBeBroken && !l.stillOurs() {
			l.log.Debug("lock taken with a claim dated too long ago was broken before it could be dated again")
			return false
		}
		if err != nil {
			if isNotExist(err) {
				// Our claim file is gone: whatever holds our claim
				// name at the lock path is not dated by us.
				l.log.Debug("lock file holds our claim name but our claim file is gone", "err", err)
				return false
			}
			// Undated, the lock would expire when the claim was dated,
			// perhaps long ago (a waiter's claim): not the lifetime from
			// now its caller relies on. Give it up (under the break lock
			// if it may have expired) and try again.
			l.log.Warn("lock taken but could not be dated: giving it up", "err", err)
			if o, oerr := l.observe(); oerr == nil && l.owns(o) {
				if rerr := l.removeLockFile(o); rerr != nil {
					l.log.Warn("giving up an undated lock", "err", rerr)
				}
			}
			return false
		}
	}
	l.setHeld(true)
	l.log.Debug("lock acquired")
	return true
}

// freshClaim is how recently a claim must have been dated for a link of it
// to need no new date: a lock's expiry may fall this much short of its
// acquisition plus the lifetime. It is a hundredth of the lifetime, at
// least a millisecond and at most 100 ms: through a network filesystem
// the date and the link are a round trip each, a millisecond or more
// between hosts, and a fixed millisecond made nearly every acquisition
// there pay a third round trip to date the claim again. The expiry the
// holder keeps is the date the claim has (see keptExpiry), so a lock that
// expires that much early is only a lock kept that much shorter, never one
// broken while its holder counts on it.
func freshClaim(lifetime time.Duration) time.Duration {
	return min(max(lifetime/100, time.Millisecond), 100*time.Millisecond)
}

// fail removes the claim file and returns a failed result carrying err.
func (l *Lock) fail(op string, err error) result {
	if rerr := l.removeIfExists(l.claim); rerr != nil {
		err = appendErr(err, fmt.Errorf("removing claim file: %w", rerr))
	}
	return result{outcome: failed, err: &Error{Op: op, Path: l.path, Err: err}}
}

// abandon gives up a wait: it removes the claim file and returns an *Error
// with cause, naming the last holder seen.
func (l *Lock) abandon(op string, last observation, cause error) error {
	if last.glanced {
		// Name the holder of now, not of the last full look.
		if o, err := l.observe(); err == nil {
			last = o
		}
	}
	if rerr := l.removeIfExists(l.claim); rerr != nil {
		cause = appendErr(cause, fmt.Errorf("removing claim file: %w", rerr))
	}
	return &Error{Op: op, Path: l.path, Holder: last.details(), Err: cause}
}

// expired reports whether a lock with expiry t may be broken now: it expired
// more than the clock slop ago.
func (l *Lock) expired(t time.Time) bool {
	return l.serverNow().After(t.Add(l.slop))
}

func excerpt(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
