package locker

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"time"
)

// Waiting for a busy lock, fast and fair, without a busier poll.
//
// A waiting Lock tries to link its claim again after each wait, and each
// try costs file operations, which on NFS are round trips to a server that
// other clients share. Five things keep waits short and fair without more
// of them:
//
//  1. A watch of the lock file, kept between waits. Where the backend can
//     watch the directory (inotify, on Linux), a Lock that finds the lock
//     busy starts a watch; with an EntryWatcher it wakes only when the
//     lock file goes, not when claim files come and go beside it. The
//     watch is kept from one wait to the next and stops once no wait has
//     used it for watchIdle (closing an inotify instance waits for a
//     kernel grace period, up to milliseconds, which a hand-off should not
//     wait for), except that a wait that took the lock starts a new one
//     next time: the kernel wakes a directory's watchers in an order fixed
//     for each watch's life, and the first woken wins the race that
//     follows a release, so a kept watch would win, or lose, every race.
//  2. A glance instead of a look. After a failed link, a Lock that has read
//     the lock file earlier in the same wait judges it by a stat alone, as
//     long as that shows nothing that needs the contents: not expired (a
//     break needs them), not possibly its own link (a link whose reply was
//     lost, on NFS), not anything but a file of a claim's size with as many
//     links as at the last look. Every fullLookEvery it reads the file in
//     full all the same, so that an object that no lock makes, put there
//     in the meantime, is reported. A poll is then two file operations
//     (link, stat) instead of seven.
//  3. A steady poll while the lock changes hands. A waiter whose glances
//     show a new holder each time polls at most every turnPoll instead of
//     backing off towards the maximum: under churn, waiters that have
//     waited long would otherwise poll least often and lose every race to
//     newcomers. While one holder keeps the lock, the backoff grows as
//     before, so that a long wait costs less than it used to.
//  4. Re-takes. A process that releases the lock and wants it again at
//     once takes it back before any waiter has noticed that it was free:
//     no hand-off, so no wait for a waiter to wake or poll. Most of the
//     throughput a lock file can have comes from these, as it does for the
//     floor of the algorithm (the same calls with no checks) under
//     contention. Each release still wakes every watching waiter, to lose
//     the race: with a few waiters, those wake-ups cost more processor
//     time than everything else. So a waiter that a release woke and that
//     then found the lock taken again pauses its watch (an EntryWatch
//     reports nothing) until its next poll, pauseFor later; the waiters
//     that still watch are those that lost no race lately.
//  5. Turns. Left at that, a releaser could keep the lock for ever (a
//     waiter without a watcher, on another host, polls every few
//     milliseconds at best). So a Lock that has taken the lock turnStreak
//     times in a row without finding it busy, saw it busy within the last
//     contentionMemory, released it less than turnWait ago and finds it
//     free, first looks for other claimants' claim files beside the lock
//     file; if there are any, it leaves the lock to them for up to
//     turnWait, until one has taken it (a watcher sees that at once;
//     without one it sleeps the whole turnWait). A Lock of a lock that is
//     free and unclaimed never waits.

const (
	// watchIdle is how long a Lock keeps its directory watch after the
	// last wait that used it.
	watchIdle = time.Second
	// fullLookEvery bounds the time between two full reads of the lock
	// file while a Lock waits.
	fullLookEvery = time.Second
	// contentionMemory is how long after it last found the lock busy a
	// Lock still expects other claimants.
	contentionMemory = time.Second
	// turnStreak is how many times in a row a Lock takes the lock without
	// finding it busy before it leaves a turn to others.
	turnStreak = 32
)

// turnPoll is the longest a waiter waits between two polls while the lock
// changes hands, and turnWait how long a releaser that gives a turn leaves
// the lock to others: eight and sixteen times the shortest backoff (8 ms
// and 16 ms by default), but not more than the longest backoff step. A
// releaser waits long enough for every waiter to poll at least once.
func (l *Lock) turnPoll() time.Duration { return min(8*l.minWait, l.maxWait) }
func (l *Lock) turnWait() time.Duration { return max(l.turnPoll(), min(2*l.turnPoll(), l.maxWait)) }

// pauseFor is how long a waiter that lost a race it was woken for stops
// its watch: between one and two shortest backoff steps (1–2 ms by
// default), jittered, so that the paused waiters come back one by one.
func (l *Lock) pauseFor() time.Duration {
	return l.minWait + time.Duration(rand.Int64N(int64(l.minWait)+1))
}

// A dirWatch is the directory watch a Lock keeps between its waits.
type dirWatch struct {
	events <-chan struct{}
	stop   func() error
	// report sets what an EntryWatch reports of the lock file; nil for a
	// Watcher's watch, which reports everything.
	report func(EntryEvents) error
	users  int         // calls of the Lock using it now
	idle   *time.Timer // stops it once unused for watchIdle
}

// expect makes w report which changes of the lock file, where it can tell
// them apart. If the switch fails, w may report less, and polling ends the
// waits.
func (w *dirWatch) expect(which EntryEvents) {
	if w != nil && w.report != nil {
		w.report(which)
	}
}

// canPause reports whether w can stop reporting changes of the lock file
// and start again (see Re-takes at the top of this file).
func (w *dirWatch) canPause() bool { return w != nil && w.report != nil }

// useWatch returns the Lock's directory watch, its events emptied of what
// happened before this call, reporting departures of the lock file. If
// none runs, it starts one if start is true, and returns nil otherwise. It
// returns nil if the backend cannot watch the directory or the Lock may
// not (WithWatcher(false)). Every non-nil return must be matched by a call
// of doneWithWatch. (Two calls of one Lock at once share the watch, and
// may see each other's switch between arrivals and departures: a wake too
// many or too few, which the next poll makes up for.)
func (l *Lock) useWatch(start bool) *dirWatch {
	if l.noWatch {
		return nil
	}
	l.mu.Lock()
	if w := l.watch; w != nil {
		w.users++
		if w.idle != nil {
			w.idle.Stop() // if it fired already, it sees users > 0 and leaves w alone
			w.idle = nil
		}
		l.mu.Unlock()
		for drained := false; !drained; {
			select {
			case <-w.events:
			default:
				drained = true
			}
		}
		return w
	}
	l.mu.Unlock()
	if !start {
		return nil
	}
	w := &dirWatch{users: 1}
	switch fsys := l.fsys.(type) {
	case EntryWatcher:
		ew, err := fsys.WatchEntry(l.dir, l.base)
		if err != nil {
			l.log.Debug("cannot watch the lock file; polling only", "err", err)
			return nil
		}
		w.events, w.stop, w.report = ew.Events(), ew.Stop, ew.Report
	case Watcher:
		events, stop, err := fsys.Watch(l.dir)
		if err != nil {
			l.log.Debug("cannot watch the lock directory; polling only", "err", err)
			return nil
		}
		w.events, w.stop = events, stop
	default:
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.watch != nil {
		// Another call of this Lock started one meanwhile: use that.
		l.watch.users++
		go w.stop()
		return l.watch
	}
	l.watch = w
	return w
}

// doneWithWatch says that a call that got w from useWatch no longer uses
// it. The watch stops once no call has used it for watchIdle: its inotify
// instance is closed then, off the path of any hand-off. A watch retired
// meanwhile (see retireWatch) stops as soon as no call uses it.
func (l *Lock) doneWithWatch(w *dirWatch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.users--; w.users > 0 {
		return
	}
	if l.watch != w {
		go func() {
			if err := w.stop(); err != nil {
				l.log.Debug("stopping the directory watch", "err", err)
			}
		}()
		return
	}
	w.idle = time.AfterFunc(watchIdle, func() { l.stopIdleWatch(w) })
}

// retireWatch makes the next wait of the Lock start a new watch instead of
// using w. A Lock calls it when a wait ends with the lock taken: the kernel
// wakes the watchers of a directory in an order fixed for the life of each
// watch, and the first to wake wins the race that follows a release, so a
// Lock that kept its watch would keep its place and win, or lose, every
// race. A new watch takes a new place in that order, and the places go
// round.
func (l *Lock) retireWatch(w *dirWatch) {
	l.mu.Lock()
	if l.watch == w {
		l.watch = nil
	}
	l.mu.Unlock()
}

// stopIdleWatch stops the watch w, unless a call of the Lock uses it again
// or it is no longer the Lock's.
func (l *Lock) stopIdleWatch(w *dirWatch) {
	l.mu.Lock()
	if l.watch != w || w.users > 0 {
		l.mu.Unlock()
		return
	}
	l.watch = nil
	if w.idle != nil {
		w.idle.Stop()
	}
	l.mu.Unlock()
	if err := w.stop(); err != nil {
		l.log.Debug("stopping the directory watch", "err", err)
	}
}

// sleep waits for d, until ctx is done, or until the directory changes. It
// reports whether a change woke it.
func (l *Lock) sleep(ctx context.Context, d time.Duration, events <-chan struct{}) (woken bool, err error) {
	if events == nil {
		return false, l.clock.Sleep(ctx, d)
	}
	if _, ok := l.clock.(RealClock); ok {
		// What RealClock.Sleep does, with the events in the same select:
		// no goroutine and no context between a release and the waiter.
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-events:
			return true, nil
		case <-t.C:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-events:
			woken = true
			cancel()
		case <-wctx.Done():
		}
	}()
	l.clock.Sleep(wctx, d)
	cancel()
	<-done
	return woken, ctx.Err()
}

// noteAcquired records how this Lock took the lock: after finding it busy
// (waited), or at once.
func (l *Lock) noteAcquired(waited bool) {
	l.mu.Lock()
	if waited {
		l.streak = 0
	} else {
		l.streak++
	}
	l.mu.Unlock()
}

// noteBusy records that this Lock found the lock held by someone else.
func (l *Lock) noteBusy() {
	now := l.clock.Now()
	l.mu.Lock()
	l.busyAt = now
	l.mu.Unlock()
}

// noteReleased records that this Lock released the lock it held.
func (l *Lock) noteReleased() {
	now := l.clock.Now()
	l.mu.Lock()
	l.releasedAt = now
	l.mu.Unlock()
}

// yieldTurn leaves the lock to the other claimants for a while, if this
// Lock has taken it turnStreak times in a row without finding it busy,
// has just released it, saw it busy not long ago, finds it free and sees
// claim files of others beside it (see the top of this file). It returns
// once one of them has taken it, after turnWait or at deadline (if not
// zero), or with ctx's error if ctx ends first.
func (l *Lock) yieldTurn(ctx context.Context, w *dirWatch, deadline time.Time) error {
	l.mu.Lock()
	due := l.streak >= turnStreak
	l.mu.Unlock()
	if !due {
		return nil
	}
	now := l.clock.Now()
	l.mu.Lock()
	until := l.releasedAt.Add(l.turnWait())
	due = !l.busyAt.IsZero() && now.Sub(l.busyAt) < contentionMemory
	l.mu.Unlock()
	if !deadline.IsZero() && deadline.Before(until) {
		until = deadline
	}
	due = due && now.Before(until)
	if !due {
		return nil
	}
	// Watch for the lock file's arrival before looking, so that an arrival
	// just after the look is seen.
	w.expect(ReportArrivals)
	defer w.expect(ReportDepartures)
	if !l.lockFree() || !l.othersClaiming() {
		return nil
	}
	for {
		left := until.Sub(l.clock.Now())
		if left <= 0 {
			return nil
		}
		if w == nil {
			if _, real := l.clock.(RealClock); !real && !l.noWatch {
				// A blind sleep on a clock that only a test moves can
				// last for ever: a test whose waiters wake by the
				// backend's watcher need never move it (examples/ledger
				// hung so). Such a Lock yields turns only while it
				// watches; with WithWatcher(false) it sleeps the turn
				// out, and its test must move the clock.
				return nil
			}
			// Nothing would tell us sooner that a waiter took it.
			return l.clock.Sleep(ctx, left)
		}
		woken, err := l.sleep(ctx, left, w.events)
		if err != nil {
			return err
		}
		if woken && !l.lockFree() {
			return nil
		}
	}
}

// lockFree reports whether a stat of the lock path finds nothing there.
func (l *Lock) lockFree() bool {
	_, err := l.fsys.Stat(l.path)
	return errors.Is(err, fs.ErrNotExist)
}

// othersClaiming reports whether the lock's directory holds a claim file of
// this lock file other than this Lock's own: a claimant waiting for it, or
// one that died waiting, whose file a sweep removes in time. It needs a
// backend that can list a directory; without one it reports false.
func (l *Lock) othersClaiming() bool {
	dr, ok := l.fsys.(DirReader)
	if !ok {
		return false
	}
	names, err := dr.ReadDirNames(l.dir)
	if err != nil {
		return false
	}
	own := baseName(l.claim)
	for _, name := range names {
		if name == own {
			continue
		}
		if c, ok := parseClaim(name, l.sep, l.base); ok && c.name == name {
			return true
		}
	}
	return false
}

// glance judges a lock file that a failed link found, from a stat alone,
// given seen, the last full look at it in this wait. It reports false if
// the stat shows anything that needs the contents (see the top of this
// file); the caller then reads the file.
func (l *Lock) glance(seen observation) (result, bool) {
	fi, err := l.fsys.Stat(l.path)
	switch {
	case isNotExist(err):
		return result{outcome: again}, true // released since the link failed
	case err != nil, fi.IsDir, fi.Size <= 0, fi.Size > MaxClaimLen, fi.Links != seen.info.Links, l.expired(fi.ModTime):
		// Gone odd, or lost or gained a link (its claim file removed, a
		// symbolic link put in its place), or breakable: read it.
		return result{}, false
	}
	l.mu.Lock()
	ours, links := l.expiry, l.linksKnown && !l.noLinks
	l.mu.Unlock()
	if !links && changedHands(seen.info, fi) {
		// Without link counts (or before this Lock has learnt that the
		// filesystem counts them) a stat cannot tell a refresh from
		// another file put in the lock file's place (a symbolic link,
		// say): read.
		return result{}, false
	}
	if d := ours.Sub(fi.ModTime); d >= 0 && (d < time.Microsecond || fi.ModTime.Equal(ours.Truncate(time.Second))) {
		// Our own claim's date, as a filesystem with times to the
		// microsecond or finer stores it, or one that keeps whole seconds
		// (sshfs, some NFS servers): perhaps our link made this lock file
		// and only its reply was lost.
		return result{}, false
	}
	o := seen
	o.info = fi
	o.glanced = true
	return result{outcome: busy, obs: o}, true
}

// changedHands reports whether two looks at the lock file show different
// lock files: another holder, or the same one after a refresh.
func changedHands(a, b FileInfo) bool {
	return !a.ModTime.Equal(b.ModTime) || a.Size != b.Size
}
