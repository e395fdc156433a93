package locker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// State is what a Lock can infer about its lock file, with flufl.lock's six
// names and meanings.
type State int

const (
	// Unlocked: there is no lock file.
	Unlocked State = iota + 1
	// Ours: the claim in the lock file names this host and pid, and the lock
	// has not expired.
	Ours
	// OursExpired: the claim names this host and pid, but the lock has
	// expired; another process may break it.
	OursExpired
	// Stale: the claim names this host and a pid that is not running.
	Stale
	// TheirsExpired: another live process on this host holds the lock and it
	// has expired; another process may break it.
	TheirsExpired
	// Unknown: the claim names another host, or a live process on this host
	// holding an unexpired lock, or the lock file is not a lock at all.
	Unknown
)

var stateNames = [...]string{
	Unlocked:      "unlocked",
	Ours:          "ours",
	OursExpired:   "ours_expired",
	Stale:         "stale",
	TheirsExpired: "theirs_expired",
	Unknown:       "unknown",
}

// String returns flufl.lock's name for s, such as "ours_expired".
func (s State) String() string {
	if s >= Unlocked && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Details describes the holder of a lock, as read from the lock file.
type Details struct {
	Hostname string    // the holder's host
	PID      int       // the holder's process id on that host
	LockFile string    // the lock path as the holder named it
	Expires  time.Time // the lock file's modification time
}

// observation is one look at the lock file.
type observation struct {
	exists   bool
	contents string
	info     FileInfo
	claim    claim
	isClaim  bool
	// foreign, if not nil, says the lock path holds something no lock
	// makes (see read.go); exists is then true and the rest is empty.
	foreign error
	// glanced says that info is from a later stat than contents (see
	// glance in wait.go): the holder may since have changed.
	glanced bool
}

func (o observation) details() *Details {
	if !o.exists || !o.isClaim {
		return nil
	}
	return &Details{Hostname: o.claim.host, PID: o.claim.pid, LockFile: o.claim.lockFile, Expires: o.info.ModTime}
}

// observe reads the lock file: its contents first, then its attributes, as
// flufl.lock does, or both in one look where the backend is an
// InfoReader. A lock file that does not exist is not an error, nor is an
// object at the lock path that no lock makes (o.foreign says so).
//
// Attributes that show another size than the bytes read are another
// file's, put at the lock path between the read and the stat: the look is
// made again (see retry.go). Kept, such a look would pair one file's
// contents with another's attributes, and a waiter's glances, which
// compare the attributes alone, would take the new file (a symbolic link
// in place of the lock, say) for the lock they saw until their next full
// look.
func (l *Lock) observe() (observation, error) {
	var o observation
	var err error
	retry(func(int) bool {
		o, err = l.observeOnce()
		return err != nil || !o.exists || o.foreign != nil || o.info.Size == int64(len(o.contents))
	})
	return o, err
}

// observeOnce is one look of observe.
func (l *Lock) observeOnce() (observation, error) {
	data, info, described, err := l.readLockFileInfo()
	if errors.Is(err, fs.ErrNotExist) {
		return observation{}, nil
	}
	if isForeignObject(err) {
		return observation{exists: true, foreign: err}, nil
	}
	if err != nil {
		return observation{}, err
	}
	if !described {
		info, err = retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.path) })
		if errors.Is(err, fs.ErrNotExist) {
			return observation{}, nil
		}
		if err != nil {
			return observation{}, err
		}
	}
	o := observation{exists: true, contents: string(data), info: info}
	o.claim, o.isClaim = parseClaim(o.contents, l.sep, l.base)
	return o, nil
}

// readLockFile reads the lock file, retrying the errors named by
// WithRetryErrors (flufl.lock's retry_errnos) and transient ones, after a
// short wait each (see retry.go).
func (l *Lock) readLockFile() ([]byte, error) {
	var data []byte
	err := l.retryErr(func(try int) error {
		if try > 0 {
			l.clock.Sleep(noCancel, l.minWait)
		}
		var err error
		data, err = l.readBounded(l.path)
		return err
	})
	return data, err
}

// readLockFileInfo is readLockFile that also describes the file it read,
// where the backend can in the same look (an InfoReader); described says
// whether it did.
func (l *Lock) readLockFileInfo() (data []byte, info FileInfo, described bool, err error) {
	ir, ok := l.fsys.(InfoReader)
	if !ok {
		data, err = l.readLockFile()
		return data, FileInfo{}, false, err
	}
	err = l.retryErr(func(try int) error {
		if try > 0 {
			l.clock.Sleep(noCancel, l.minWait)
		}
		var err error
		data, info, err = ir.ReadFileInfo(l.path)
		if err == nil && len(data) > MaxClaimLen {
			err = &os.PathError{Op: "read", Path: l.path, Err: ErrTooLong}
		}
		return err
	})
	return data, info, err == nil, err
}

// readRetrying reads name with readBounded, retrying a transient error
// (ESTALE; see retry.go).
func (l *Lock) readRetrying(name string) ([]byte, error) {
	return retrying(l, func() ([]byte, error) { return l.readBounded(name) })
}

// retryable reports whether err is one the caller should try again.
func (l *Lock) retryable(err error) bool {
	if errors.Is(err, ErrTransient) {
		return true
	}
	for _, r := range l.retry {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// owns applies flufl.lock's ownership rule to an observation: the lock file
// holds our claim name and has exactly two links (the lock file and our
// claim file). On a filesystem known not to report link counts (sshfs
// reports 1 for every file; see noteLinkCounts) the contents alone decide,
// which is safe because claim names are unique.
func (l *Lock) owns(o observation) bool {
	if !o.exists || o.contents != l.claim {
		return false
	}
	if o.info.Links == 2 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.noLinks && o.info.Links <= 1
}

// noteLinkCounts learns, once per Lock, whether the filesystem reports link
// counts. It is called when the lock file is known to be a link to our claim
// file: if the claim file then shows fewer than two links, the filesystem
// does not count them.
func (l *Lock) noteLinkCounts() {
	l.mu.Lock()
	done := l.linksKnown
	l.mu.Unlock()
	if done {
		return
	}
	// A transient error is retried: were this first chance to learn lost,
	// a later failed link that finds an old lock file of ours (one left
	// when removing it failed) could teach the wrong lesson.
	fi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.claim) })
	if err != nil {
		return
	}
	l.mu.Lock()
	l.linksKnown = true
	l.noLinks = fi.Links < 2
	l.mu.Unlock()
	if fi.Links < 2 {
		l.log.Warn("filesystem does not report link counts; ownership is decided by the claim name alone")
	}
}

// probeOwnLink is called, before this Lock knows whether the filesystem
// counts links, when a failed link finds the lock file holding our claim
// name with fewer than two links. That is our link, whose reply was lost,
// on a filesystem that does not count links; or an old lock file of ours,
// left when giving up an attempt failed, whose claim file was since
// written afresh as another file. Learning from the second that links are
// not counted would make that old file ours again, dated by no one. So it
// tells them apart by dating: it gives the claim file a date the lock file
// does not have and looks whether the lock file took it. The date is a
// little earlier, never later: a prober that crashes must not leave a lock
// that outlives its lifetime (a second earlier where file times are whole
// seconds, whose lifetimes are over two seconds; a millisecond elsewhere).
// The claim file is dated afresh after the probe unless the lock file
// proves to be its link (the caller then takes the lock, and dates it).
func (l *Lock) probeOwnLink(o observation) bool {
	l.mu.Lock()
	known := l.linksKnown
	l.mu.Unlock()
	if known || o.info.Links >= 2 {
		return false
	}
	mark := o.info.ModTime.Add(-time.Millisecond)
	if o.info.ModTime.Nanosecond() == 0 {
		mark = o.info.ModTime.Add(-time.Second)
	}
	if err := l.fsys.Chtimes(l.claim, mark, mark); err != nil {
		return false
	}
	if data, err := l.readLockFile(); err == nil && string(data) == l.claim { // opening refreshes cached attributes
		if fi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.path) }); err == nil && fi.ModTime.Equal(mark) {
			return true
		}
	}
	if _, err := retrying(l, func() (struct{}, error) { return struct{}{}, l.touch(l.claim) }); err != nil {
		l.log.Warn("dating the claim file again after a probe", "err", err)
	}
	return false
}

// IsLocked reports whether this Lock holds the lock: the lock file holds this
// Lock's claim name and, where the filesystem reports them, has two links.
// Unlike flufl.lock's is_locked, it is a pure query: it does not refresh the
// lock. An error reading the lock file counts as not locked.
func (l *Lock) IsLocked() bool {
	o, err := l.observe()
	return err == nil && l.owns(o) && l.stillOurs()
}

// stillOurs confirms an observation that showed the lock ours (owns).
//
// observe reads the contents and then the attributes: an expired lock
// broken and taken afresh in between (or an old lock file of ours, left
// when removing it failed) would lend our claim name the new lock's
// attributes, two links. Our claim name still in the lock file after the
// attributes were read means they were our lock's: a lock replaced in
// between cannot come back with our claim name unless we link it.
//
// And the second link must be our claim file. An old lock file of ours that
// a breaker moved aside and is putting back has two links too (the lock
// file and the breaker's aside name) while our claim file is another file,
// written afresh since: that lock is no longer ours to keep, and its expiry
// is no longer ours to move.
func (l *Lock) stillOurs() bool {
	ours, err := l.confirmOurs()
	return ours && err == nil
}

// confirmOurs is stillOurs, telling an error reading the lock or the claim
// file from a lock that is not ours.
func (l *Lock) confirmOurs() (bool, error) {
	data, err := l.readLockFile()
	switch {
	case isNotExist(err):
		return false, nil
	case err != nil:
		return false, err
	case string(data) != l.claim:
		return false, nil
	}
	fi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.claim) })
	switch {
	case isNotExist(err):
		return false, nil
	case err != nil:
		return false, err
	}
	if !l.owns(observation{exists: true, contents: l.claim, info: fi}) {
		return false, nil
	}
	l.mu.Lock()
	noLinks := l.noLinks
	l.mu.Unlock()
	if !noLinks {
		return true, nil
	}
	// Without link counts the claim name alone cannot tell our link from
	// an old lock file of ours: one whose removal failed (its claim file
	// removed, then written afresh as another file), or one a breaker put
	// back. The lock file and our claim file are one file only if they
	// have one date: the old one keeps the date it had.
	lfi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.path) })
	switch {
	case isNotExist(err):
		return false, nil
	case err != nil:
		return false, err
	}
	if !lfi.ModTime.Equal(fi.ModTime) {
		return false, nil
	}
	// And those attributes must be the lock file's that holds our claim
	// name: read it again after them (a breaker may have put another
	// lock, dated in the same second, in the old one's place).
	data, err = l.readLockFile()
	switch {
	case isNotExist(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return string(data) == l.claim, nil
}

// observeSteady is observe for a query whose answer must describe one lock
// file, whoever holds it: it reads the contents once more after the
// attributes (see stillOurs), and looks again, a few times, if they changed.
func (l *Lock) observeSteady() (observation, error) {
	var o observation
	var err error
	if retry(func(int) bool {
		o, err = l.observe()
		if err != nil || !o.exists || o.foreign != nil {
			return true
		}
		data, rerr := l.readLockFile()
		return rerr == nil && string(data) == o.contents
	}) {
		return o, err
	}
	return observation{}, fmt.Errorf("%w: the lock file kept changing while it was read", ErrBusy)
}

// State infers the lock's state as flufl.lock does. A claim naming this
// Lock's host and pid is Ours (or OursExpired) even if another Lock value of
// the same process made it; use IsLocked to ask about this Lock alone.
// Whether another local process is alive is asked of the backend's
// ProcessChecker; without one, such processes are assumed alive. A file at
// the lock path that is not a lock is Unknown, as for flufl.lock; an
// object that no lock can have made (a directory, a FIFO, a socket, a
// device, a symbolic link, a file longer than MaxClaimLen) is Unknown with
// an error wrapping ErrForeignFile.
func (l *Lock) State() (State, error) {
	o, err := l.observeSteady()
	if err != nil {
		return Unknown, &Error{Op: "state", Path: l.path, Err: err}
	}
	if !o.exists {
		return Unlocked, nil
	}
	if o.foreign != nil {
		return Unknown, &Error{Op: "state", Path: l.path, Err: o.notALock()}
	}
	if !o.isClaim || o.claim.host != l.hostname {
		return Unknown, nil
	}
	expired := o.info.ModTime.Before(l.serverNow())
	if o.claim.pid == l.pid {
		if expired {
			return OursExpired, nil
		}
		return Ours, nil
	}
	alive := true
	if pc, ok := l.fsys.(ProcessChecker); ok {
		alive, err = pc.ProcessAlive(o.claim.host, o.claim.pid)
		if err != nil {
			return Unknown, &Error{Op: "state", Path: l.path, Err: err}
		}
	}
	switch {
	case !alive:
		return Stale, nil
	case expired:
		return TheirsExpired, nil
	default:
		return Unknown, nil
	}
}

// Details reads the lock file and returns who holds the lock, whoever that
// is. It returns an error wrapping ErrNotLocked if there is no lock file, or
// ErrForeignFile if the lock file is not a lock.
func (l *Lock) Details() (Details, error) {
	o, err := l.observe()
	switch {
	case err != nil:
		return Details{}, &Error{Op: "details", Path: l.path, Err: err}
	case !o.exists:
		return Details{}, &Error{Op: "details", Path: l.path, Err: ErrNotLocked}
	case !o.isClaim:
		return Details{}, &Error{Op: "details", Path: l.path, Err: o.notALock()}
	}
	return *o.details(), nil
}

// Expiration returns the time the lock expires, whoever holds it: the lock
// file's modification time. It returns an error wrapping ErrNotLocked if
// there is no lock file, and ErrForeignFile if the lock path holds an object
// no lock makes (a directory, a symbolic link, a FIFO, ...). Like every look
// at the lock, it reads the lock file before its attributes: opening a file
// makes network filesystems' clients (NFS's close-to-open consistency,
// sshfs's cache) fetch its attributes afresh, so that a time another client
// set is not hidden by an attribute cache.
func (l *Lock) Expiration() (time.Time, error) {
	o, err := l.observe()
	switch {
	case err != nil:
		return time.Time{}, &Error{Op: "expiration", Path: l.path, Err: err}
	case !o.exists:
		return time.Time{}, &Error{Op: "expiration", Path: l.path, Err: fmt.Errorf("%w: %w", ErrNotLocked, fs.ErrNotExist)}
	case o.foreign != nil:
		return time.Time{}, &Error{Op: "expiration", Path: l.path, Err: o.notALock()}
	}
	return o.info.ModTime, nil
}
