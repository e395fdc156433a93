package locker

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// Breaking an expired lock, race-free: breakers take turns under a break
// lock (<lockfile>.break, taken by the same link algorithm), look at the
// lock again under it, move it aside with rename, and put back with link
// what they moved and did not mean to. An expired holder releases or
// refreshes only under the break lock too. The rules, the races they close
// and what remains are written in full in docs/algorithm.md, "Breaking an
// expired lock".

// breakLifetime is how long the break lock lasts: a break takes a few file
// operations, so only a breaker that crashed holds it that long.
func (l *Lock) breakLifetime() time.Duration { return max(l.slop, 2*time.Second) }

// breakLock breaks the expired lock described by o, and removes its
// holder's claim file. It reports whether it removed the lock; false with a
// nil error means someone else is breaking it or it is no longer the
// expired lock o saw. An error that an object no lock makes, at any of the
// names a break uses, caused wraps ErrForeignFile: a waiter then gives up
// at once instead of waiting for a break that cannot be made.
func (l *Lock) breakLock(o observation) (broke bool, err error) {
	defer func() { err = asForeign(err) }()
	got, err := l.withBreakLock(func() error {
		now, err := l.observe()
		if err != nil {
			return err
		}
		if !now.exists || now.contents != o.contents || !l.expired(now.info.ModTime) {
			return nil // released, broken, or refreshed since we looked
		}
		if !l.stillExpired(now) { // see freshlook.go
			return nil
		}
		broke, err = l.removeAside(l.path, now.contents, func(fi FileInfo) bool { return l.expired(fi.ModTime) })
		if broke {
			l.log.Info("broke expired lock", "holder_host", o.claim.host, "holder_pid", o.claim.pid, "expired", now.info.ModTime)
			if holder := filepath.Join(l.dir, baseName(o.claim.name)); holder != l.claim {
				gone, rerr := l.removeBrokenClaim(holder, now.contents)
				if rerr != nil {
					err = appendErr(err, fmt.Errorf("removing the holder's claim file: %w", rerr))
				}
				if gone {
					if ferr := l.dropFenceTemp(holder); ferr != nil { // see fence.go
						err = appendErr(err, ferr)
					}
				}
			}
		}
		return err
	})
	if !got {
		l.log.Debug("another process is breaking the lock")
	}
	return broke, err
}

// removeBrokenClaim removes the claim file holder of the holder whose lock
// (holding contents, the claim file's name) was just broken, and reports
// whether it is gone. It is removed only while it still looks dead, as a
// dead claimant's claim file is (removeDeadClaim): between the move of the
// expired lock aside and this removal its holder may have found the lock
// gone, written its claim file afresh and taken the lock again with it. A
// filesystem that counts links would show that holder its claim file gone
// from under its lock; one that does not (sshfs) would not, and the holder
// would go on believing in a lock file that no claim file backs, which a
// breaker breaks once its first date has passed. A claim file written
// afresh is dated now, or with the new lock's expiry: not dead.
//
// The claim file is read before it is looked at: a client that caches
// attributes (NFS's defaults) may still show it as it was while the lock
// held it, with two links, until an open fetches them again (close-to-open
// consistency), as the lock file's are fetched before its expiry is judged.
func (l *Lock) removeBrokenClaim(holder, contents string) (bool, error) {
	if _, err := l.readRetrying(holder); isNotExist(err) {
		return true, nil
	}
	fi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(holder) })
	switch {
	case isNotExist(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("stat %s: %w", holder, err)
	case !l.looksDead(fi) || l.lockHolds(l.path, contents):
		l.log.Debug("the broken lock's holder has taken it again; leaving its claim file", "name", holder)
		return false, nil
	}
	return l.removeDeadClaim(holder, contents, l.path)
}

// removeAside removes the file name, which held contents, if it still does
// and still satisfies ok. It moves the file aside first (rename is atomic),
// then checks what it moved, and puts it back with link if that is not the
// file it meant to remove. It reports whether it removed the file.
func (l *Lock) removeAside(name, contents string, ok func(FileInfo) bool) (bool, error) {
	return l.removeAsideRestoring(name, contents, ok, l.linkBack)
}

// removeAsideRestoring is removeAside putting back with restore: linkBack,
// which leaves alone what someone made at name meanwhile, or renameBack,
// which replaces it.
func (l *Lock) removeAsideRestoring(name, contents string, ok func(FileInfo) bool, restore func(string) error) (bool, error) {
	if err := l.clearAside(); err != nil {
		return false, err
	}
	if l.inBreak.Load() && !l.holdsBreakLock() {
		// Under the break lock, which is no longer ours: another breaker
		// that broke it as stale, or put back over it a break lock it
		// moved aside by mistake, may be at work. Leave the file alone.
		l.log.Warn("the break lock is no longer ours; not moving the file aside", "name", name)
		return false, nil
	}
	if l.inBreak.Load() {
		// Look at the file again, after the break lock: it may have
		// been taken from under us and given back (a breaker of a
		// stale one moved it aside by mistake, a third took the free
		// name and broke the lock, the first put ours back over the
		// third's), and what we judged may be gone meanwhile.
		if !l.stillHolds(name, contents, ok) {
			return false, nil
		}
	}
	if err := l.moveAside(name); err != nil {
		if isNotExist(err) {
			return false, nil
		}
		return false, fmt.Errorf("moving %s aside: %w", name, err)
	}
	// What was moved is checked; a check that fails for a moment (ESTALE)
	// is tried again, lest a dead claimant's file stay for want of a look.
	data, rerr := l.readRetrying(l.aside)
	fi, serr := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.aside) })
	meant := rerr == nil && serr == nil && string(data) == contents && ok(fi)
	if meant && l.inBreak.Load() && !l.holdsBreakLock() {
		// The break lock stopped being ours while we moved the file: we
		// took it while a breaker of a stale one had moved aside by
		// mistake another's, which it has put back over ours. That other
		// is at work: put the file back and leave it to it.
		l.log.Warn("the break lock stopped being ours while the file was aside; putting it back", "name", name)
		meant = false
	}
	if meant {
		if err := l.removeIfExists(l.aside); err != nil {
			return true, fmt.Errorf("removing the moved file: %w", err)
		}
		return true, nil
	}
	// We moved something else, or may no longer act: put it back. (Even
	// when the claim file it names is gone, it may not have been let go: a
	// sweeper may have removed a live holder's claim file that it judged
	// dead while the lock file was aside; putting back leaves that holder
	// to find out. A lock put back after its owner let go stays, no one's,
	// until it expires and a breaker breaks it.)
	var errs error
	if nr := (*NotRegularError)(nil); errors.As(rerr, &nr) && nr.Type.IsDir() {
		// A directory cannot be hard-linked. Renaming it back is safe:
		// rename puts a directory only where there is nothing or an
		// empty directory, never over a lock made there meanwhile.
		if err := l.renameBack(name); err != nil {
			l.log.Error("could not restore a directory moved aside", "name", name, "err", err)
			errs = appendErr(errs, fmt.Errorf("restoring %s: %w", name, err))
		}
		return false, errs
	}
	if err := restore(name); err != nil {
		// Someone created name while it was free. The owner of the file
		// we moved has lost it, and finds out from IsLocked, Refresh or
		// Unlock; for this Lock, someone else has the name now.
		l.log.Error("could not restore a file moved aside", "name", name, "err", err)
		switch {
		case errors.Is(err, fs.ErrExist):
			err = fmt.Errorf("%w: someone took it while it was aside: %w", ErrBusy, err)
		case isNotExist(err):
			// What was aside is gone: another process (a co-tenant)
			// removed it. The name is free for the next attempt.
			err = fmt.Errorf("%w: what was moved aside was removed meanwhile: %w", ErrBusy, err)
		}
		errs = appendErr(errs, fmt.Errorf("restoring %s: %w", name, err))
	}
	if err := l.removeIfExists(l.aside); err != nil {
		errs = appendErr(errs, err)
	}
	return false, errs
}

// stillHolds reports whether name still holds contents and satisfies ok.
// A look that fails (the file gone, replaced by an object no lock makes, a
// failure that outlasts the retries) is not the file judged: it is left
// alone, and the next attempt judges what is there.
func (l *Lock) stillHolds(name, contents string, ok func(FileInfo) bool) bool {
	data, err := l.readRetrying(name)
	if err != nil || string(data) != contents {
		return false
	}
	fi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(name) })
	return err == nil && ok(fi)
}

// holdsBreakLock reports whether the break lock still holds this Lock's
// break claim.
func (l *Lock) holdsBreakLock() bool {
	ours, err := l.stillHoldsBreakLock()
	return ours && err == nil
}

// stillHoldsBreakLock is holdsBreakLock, telling a break lock that cannot
// be read from one that is not ours.
func (l *Lock) stillHoldsBreakLock() (bool, error) {
	data, err := l.readRetrying(l.breakPath)
	switch {
	case isNotExist(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return string(data) == l.breakClaim, nil
}

// clearAside removes whatever is at this Lock's aside name (left there by
// an earlier move whose clean-up failed: the name is this Lock's alone), so
// that after a rename to it whose reply was lost, what is there is what
// that rename moved.
func (l *Lock) clearAside() error {
	if err := l.removeIfExists(l.aside); err != nil {
		return fmt.Errorf("clearing %s: %w", l.aside, err)
	}
	return nil
}

// moveAside renames name to this Lock's aside name. A rename that fails
// for a moment (ESTALE) is tried again, lest a dead claimant's file or an
// expired lock stay for want of a move, and one whose reply was lost counts
// as done (movedAside).
func (l *Lock) moveAside(name string) error {
	return l.retryErr(func(int) error {
		if err := l.fsys.Rename(name, l.aside); err != nil && !l.movedAside() {
			return err
		}
		return nil
	})
}

// linkBack links the file this Lock moved aside back to name. It fails
// with fs.ErrExist if something was made at name meanwhile. A link that
// fails for a moment (ESTALE) is tried again, lest a live lock or claim
// file moved aside by mistake be lost for want of a second try. A link
// that finds name taken by a file with the same contents as the one aside
// finds its own earlier try, or itself, done and its reply lost (an NFS
// client that sends the call again with a new XID gets EEXIST at once), or
// the claimant's own claim file written afresh: either way what belongs
// there is there.
func (l *Lock) linkBack(name string) error {
	return l.retryErr(func(try int) error {
		err := l.fsys.Link(l.aside, name)
		if errors.Is(err, fs.ErrExist) && l.sameContents(name, l.aside) {
			return nil
		}
		return err
	})
}

// renameBack moves what this Lock moved aside back to name with rename: a
// directory, which cannot be linked, or a claim file that has become a
// lock file's second link (see putBack). A rename that fails for a moment
// is tried again. A rename that finds nothing aside and something at name
// finds its own earlier try, or itself, done and its reply lost (an NFS
// client that sends the call again with a new XID gets ENOENT at once):
// the aside name is this Lock's alone.
func (l *Lock) renameBack(name string) error {
	return l.retryErr(func(try int) error {
		err := l.fsys.Rename(l.aside, name)
		if isNotExist(err) {
			if _, serr := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(name) }); serr == nil {
				return nil
			}
		}
		return err
	})
}

// sameContents reports whether the files a and b can both be read and
// hold the same bytes.
func (l *Lock) sameContents(a, b string) bool {
	da, erra := l.readRetrying(a)
	db, errb := l.readRetrying(b)
	return erra == nil && errb == nil && string(da) == string(db)
}

// movedAside reports whether something is at this Lock's aside name, just
// cleared: whether a rename to it that failed was done all the same (its
// reply was lost, and the retried request found the file gone). What was
// moved is then checked, and put back if it is not what was meant to go,
// as after any move.
func (l *Lock) movedAside() bool {
	_, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.aside) })
	return err == nil
}

// withBreakLock runs f while holding the break lock. It reports false, and
// does not run f, if another process holds the break lock. A break lock
// left by a breaker that crashed is broken once it has expired by more than
// the clock slop.
func (l *Lock) withBreakLock(f func() error) (got bool, err error) {
	got, _, err = l.withBreakLockKept(f)
	return got, err
}

// withBreakLockKept is withBreakLock that also reports whether the break
// lock was still ours when f was done.
func (l *Lock) withBreakLockKept(f func() error) (got, kept bool, err error) {
	if err := l.writeFresh(l.breakClaim, []byte(l.breakClaim)); err != nil {
		l.removeIfExists(l.breakClaim) // a write that failed may have made it
		return false, false, fmt.Errorf("writing the break claim: %w", err)
	}
	defer func() {
		if rerr := l.removeIfExists(l.breakClaim); rerr != nil {
			err = appendErr(err, fmt.Errorf("removing the break claim: %w", rerr))
		}
	}()
	t := l.serverNow().Add(l.breakLifetime())
	if err := l.fsys.Chtimes(l.breakClaim, t, t); err != nil {
		if isNotExist(err) {
			// Removed as soon as written: someone else is at work on
			// the lock's names. The break lock is not ours this time.
			return false, false, nil
		}
		return false, false, fmt.Errorf("dating the break claim: %w", err)
	}
	if got, err := l.takeBreakLock(); !got || err != nil {
		return false, false, err
	}
	l.inBreak.Store(true)
	ferr := f()
	l.inBreak.Store(false)
	kept, rerr := l.releaseBreakLock()
	if rerr != nil {
		ferr = appendErr(ferr, rerr)
	}
	return true, kept, ferr
}

// takeBreakLock links the break claim to the break lock, breaking a break
// lock expired by more than the slop, and reports whether it got it: not
// if another holds it, or the link stays inconclusive (see retry.go).
func (l *Lock) takeBreakLock() (got bool, err error) {
	retry(func(attempt int) bool {
		linkErr := l.fsys.Link(l.breakClaim, l.breakPath)
		if linkErr == nil {
			got = true
			return true
		}
		data, rerr := l.readBounded(l.breakPath)
		if rerr == nil && string(data) == l.breakClaim {
			got = true // the link worked but its reply was lost
			return true
		}
		if isForeignObject(rerr) {
			err = l.foreignBreakLock(rerr)
			return true
		}
		if attempt == maxTries-1 {
			return true
		}
		switch {
		case errors.Is(linkErr, fs.ErrExist):
			if rerr != nil {
				return false // released meanwhile, or unreadable for now
			}
			var busy bool
			busy, err = l.breakStaleBreakLock(string(data))
			return busy || err != nil
		case errors.Is(linkErr, fs.ErrNotExist), l.retryable(linkErr):
			return false
		}
		switch claimErr := l.ownFileIntact(l.breakClaim); {
		case isForeignObject(claimErr):
			err = fmt.Errorf("%w: this Lock's break claim %s was replaced by something no lock makes: %w; %w", ErrForeignFile, l.breakClaim, claimErr, linkErr)
		case isNotExist(claimErr), errors.Is(claimErr, errClaimReplaced):
			// Removed or replaced by someone else at work in the
			// directory: the break lock is not ours this time.
		default:
			// Intact, or unreadable: a second link tells a refusal of
			// what was at the name a moment ago from the filesystem's
			// (see attempt).
			if l.refusedOnce(linkErr, l.breakClaim, l.breakPath) {
				return false // look again
			}
			err = fmt.Errorf("taking the break lock: %w", linkErr)
		}
		return true
	})
	return got, err
}

// breakStaleBreakLock breaks the break lock, which holds data, if it has
// expired by more than the slop, and reports whether it is busy instead.
func (l *Lock) breakStaleBreakLock(data string) (busy bool, err error) {
	fi, serr := l.fsys.Stat(l.breakPath)
	c, isClaim := parseClaim(data, l.sep, l.breakBase)
	if !isClaim {
		return false, l.foreignBreakLock(fmt.Errorf("it contains %q", excerpt(data)))
	}
	if serr != nil || !l.expired(fi.ModTime) {
		return true, nil
	}
	// A fresh break lock moved aside by mistake (another breaker broke the
	// stale one and took the break lock in between) is put back with
	// rename, over any break lock a third took while the name was free:
	// the breaker that held it may already have looked (holdsBreakLock)
	// and be moving the lock file aside, while the third looks only after
	// its link and so finds the break lock no longer its own. Put back
	// with link, the one moved would lose it unknowing, and two would
	// break.
	if _, err := l.removeAsideRestoring(l.breakPath, data, func(fi FileInfo) bool { return l.expired(fi.ModTime) }, l.renameBack); err != nil {
		return false, err
	}
	if stale := filepath.Join(l.dir, baseName(c.name)); stale != l.breakClaim {
		l.removeIfExists(stale)
	}
	return false, nil
}

// releaseBreakLock removes the break lock if it is still ours, and reports
// whether it was. A read that fails for a moment (ESTALE) is tried again:
// a break lock left behind stays until it expires and the next breaker
// breaks it.
func (l *Lock) releaseBreakLock() (kept bool, err error) {
	data, rerr := l.readRetrying(l.breakPath)
	kept = rerr == nil && string(data) == l.breakClaim
	switch {
	case kept:
		if rerr := l.removeOwn(l.breakPath, l.stillHoldsBreakLock); rerr != nil && !isNotExist(rerr) {
			err = fmt.Errorf("releasing the break lock: %w", rerr)
		}
	case rerr != nil && !errors.Is(rerr, fs.ErrNotExist):
		l.log.Warn("cannot read the break lock to release it; it stays until it expires", "path", l.breakPath, "err", rerr)
	default:
		l.log.Warn("the break lock was no longer ours when done", "path", l.breakPath)
	}
	return kept, err
}

// underBreakLock runs f under the break lock, waiting while another process
// holds it: it is held only for the few operations of a break, or until it
// expires if its holder crashed. It gives up after about the break lock's
// lifetime plus the slop and returns an error wrapping ErrTimeout.
func (l *Lock) underBreakLock(f func() error) error {
	_, err := l.underBreakLockKept(f)
	return err
}

// underBreakLockKept is underBreakLock that also reports whether the break
// lock was still ours when f was done.
func (l *Lock) underBreakLockKept(f func() error) (kept bool, err error) {
	wait := backoff{min: l.minWait, max: l.maxWait}
	deadline := l.clock.Now().Add(l.breakLifetime() + l.slop + l.maxWait)
	for {
		got, kept, err := l.withBreakLockKept(f)
		if got || err != nil {
			return kept, err
		}
		if !l.clock.Now().Before(deadline) {
			return false, fmt.Errorf("%w: the break lock %s stayed busy", ErrTimeout, l.breakPath)
		}
		l.clock.Sleep(noCancel, wait.next())
	}
}

// underBreakLockHolding runs f, which acts on the lock this Lock holds
// (refreshes it, or moves its fencing counter on), under the break lock.
// If the break lock was no longer ours when f was done, another breaker
// may have held it meanwhile, and broken our lock, expired as it was: a
// breaker of a stale break lock that moved ours aside by mistake puts it
// back over one taken in that moment, ours perhaps (see the comment at the
// top). It then looks again, with confirm, under the break lock, which
// that other has let go by then, that the lock is still ours.
func (l *Lock) underBreakLockHolding(f, confirm func() error) error {
	kept, err := l.underBreakLockKept(f)
	if err != nil || kept {
		return err
	}
	if retry(func(int) bool {
		l.log.Warn("acted under a break lock that was no longer ours; looking again that the lock is ours", "path", l.breakPath)
		kept, err = l.underBreakLockKept(confirm)
		return err != nil || kept
	}) {
		return err
	}
	return fmt.Errorf("%w: the break lock %s was not ours when done, %d times", ErrBusy, l.breakPath, maxTries+1)
}
