package conformance

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// fluflLock is flufl.lock 9.1's algorithm, transcribed call for call onto a
// locker.FS, for the suite to show what nfslock's own locker must not do. Its
// break (in breakLock) is the one flufl documents as racy: a waiter that
// judged the lock expired reads whatever claim is in the lock file at the
// moment it breaks and unlinks the lock file, even if, since its judgement,
// the lock was broken by someone else and taken afresh.
//
// Only what the suite drives is transcribed: one lock(timeout=0)-like
// attempt (TryLock), unlock, refresh, is_locked.
type fluflLock struct {
	fsys     locker.FS
	path     string
	claim    string
	clock    locker.Clock
	lifetime time.Duration
	slop     time.Duration
	// noLinks applies the ownership rule without the link count, on a
	// filesystem that reports none (flufl.lock itself cannot release a
	// lock there; the transcription must, to show its breaking race).
	noLinks bool
}

var errFluflNotLocked = errors.New("flufl: NotLockedError")

func newFluflLock(fsys locker.FS, path, host string, pid int, clk locker.Clock, lifetime, slop time.Duration, noLinks bool) *fluflLock {
	claim := strings.Join([]string{path, host, strconv.Itoa(pid), strconv.FormatInt(rand.Int64N(1<<62), 10)}, locker.DefaultSeparator)
	return &fluflLock{fsys: fsys, path: path, claim: claim, clock: clk, lifetime: lifetime, slop: slop, noLinks: noLinks}
}

// linksOK is flufl's "linkcount == 2" test, or, on a filesystem without link
// counts, true for a lock file that exists.
func (l *fluflLock) linksOK() bool {
	n := l.linkcount()
	return n == 2 || l.noLinks && n > 0
}

// touch is flufl's _touch: set times to now + lifetime, ignoring ENOENT.
func (l *fluflLock) touch(name string) error {
	t := l.clock.Now().Add(l.lifetime)
	if err := l.fsys.Chtimes(name, t, t); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// write is flufl's _write: open the claim file with "w" and write the claim.
// When the file exists (flufl holds the lock, or an earlier attempt left
// it), that rewrites the same contents in place, which shows only as a new
// modification time, on the lock file too if it is linked to the claim. A
// locker.FS never writes into an existing file, so the model makes that
// effect with Chtimes.
func (l *fluflLock) write() error {
	err := l.fsys.WriteFile(l.claim, []byte(l.claim), 0o666)
	if errors.Is(err, fs.ErrExist) {
		now := l.clock.Now()
		return l.fsys.Chtimes(l.claim, now, now)
	}
	return err
}

// read is flufl's _read: the lock file's contents, or "" if it is missing.
func (l *fluflLock) read() string {
	b, err := l.fsys.ReadFile(l.path)
	if err != nil {
		return ""
	}
	return string(b)
}

// linkcount is flufl's _linkcount: -1 if the lock file is missing.
func (l *fluflLock) linkcount() int {
	fi, err := l.fsys.Stat(l.path)
	if err != nil {
		return -1
	}
	return int(fi.Links)
}

// TryLock is flufl's lock() with a timeout that runs out after the second
// link attempt: write and touch the claim, link; on EEXIST check for our own
// lock, then break the lock if it expired more than the slop ago, and link
// once more.
func (l *fluflLock) TryLock() error {
	if err := l.write(); err != nil {
		return err
	}
	if err := l.touch(l.claim); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := l.fsys.Link(l.claim, l.path)
		if err == nil {
			return l.touch(l.claim)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, locker.ErrTransient):
		case !errors.Is(err, fs.ErrExist):
			l.fsys.Remove(l.claim)
			return err
		case !l.linksOK():
			// "unexpected linkcount": flufl logs and carries on.
		case l.read() == l.claim:
			return locker.ErrAlreadyLocked
		}
		if attempt == 1 {
			l.fsys.Remove(l.claim)
			return locker.ErrBusy
		}
		// _releasetime, then break if now > release_time + CLOCK_SLOP.
		if fi, err := l.fsys.Stat(l.path); err == nil && l.clock.Now().After(fi.ModTime.Add(l.slop)) {
			l.breakLock()
		}
	}
}

// breakLock is flufl's _break.
func (l *fluflLock) breakLock() {
	// self.details: refuse to break a file that is not a claim.
	if parts := strings.Split(l.read(), locker.DefaultSeparator); len(parts) != 4 {
		return
	}
	l.touch(l.path)
	winner := l.read()
	l.fsys.Remove(l.path)
	if winner != "" {
		l.fsys.Remove(winner)
	}
}

// isLocked is flufl's is_locked: it refreshes, then checks.
func (l *fluflLock) isLocked() bool {
	if err := l.touch(l.claim); err != nil {
		return false
	}
	return l.linksOK() && l.read() == l.claim
}

// IsLocked is flufl's is_locked, side effect included.
func (l *fluflLock) IsLocked() bool { return l.isLocked() }

// Refresh is flufl's refresh(): is_locked, which refreshes as a side effect.
func (l *fluflLock) Refresh() error {
	if !l.isLocked() {
		return errFluflNotLocked
	}
	return nil
}

// Unlock is flufl's unlock().
func (l *fluflLock) Unlock() error {
	locked := l.isLocked()
	if !locked {
		return errFluflNotLocked
	}
	l.fsys.Remove(l.path)
	l.fsys.Remove(l.claim)
	return nil
}

// UnlockUnconditionally is flufl's unlock(unconditionally=True).
func (l *fluflLock) UnlockUnconditionally() error {
	if l.isLocked() {
		l.fsys.Remove(l.path)
	}
	l.fsys.Remove(l.claim)
	return nil
}
