package locker

import "fmt"

// Adopt returns a Lock for a lock that is already held in the name of this
// host and pid (WithHostname and WithPID; by default this process), taken
// by another Lock value, typically in another process: a command-line tool
// that takes a lock on behalf of a shell script, and later refreshes and
// releases it in separate runs. The returned Lock holds the lock: Refresh,
// KeepAlive, IsLocked and Unlock act on the adopted claim as if this Lock
// had taken it. Adopt takes path and opts as New does.
//
// Adopt never touches a lock that names another host or pid: it returns an
// *Error wrapping ErrNotLocked, naming the holder, if the lock file names
// someone else or does not exist, and one wrapping ErrForeignFile if the
// lock path holds a file that is not a lock. The claim names a process, not
// a Lock value, so any Lock of that process may adopt it; the caller is
// responsible for not letting two of them release or refresh it at cross
// purposes.
//
// Before it looks at the lock, Adopt estimates the file server's clock as
// MeasureClockOffset does, so that refreshes are dated in the server's
// clock.
func Adopt(path string, fsys FS, opts ...Option) (*Lock, error) {
	const op = "adopt"
	l, err := New(path, fsys, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := l.MeasureClockOffset(); err != nil {
		return nil, err
	}
	o, err := l.observe()
	switch {
	case err != nil:
		return nil, &Error{Op: op, Path: l.path, Err: err}
	case !o.exists:
		return nil, &Error{Op: op, Path: l.path, Err: ErrNotLocked}
	case !o.isClaim:
		return nil, &Error{Op: op, Path: l.path, Err: fmt.Errorf("%w (it contains %q)", ErrForeignFile, excerpt(o.contents))}
	case o.claim.host != l.hostname || o.claim.pid != l.pid:
		return nil, &Error{Op: op, Path: l.path, Holder: o.details(), Err: fmt.Errorf("%w: the lock names host %q pid %d, not host %q pid %d",
			ErrNotLocked, o.claim.host, o.claim.pid, l.hostname, l.pid)}
	}
	// The claim file is named by the lock file's contents, as the process
	// that took the lock spelled it: a path on this host, since the claim
	// names this host.
	l.mu.Lock()
	l.claim = o.contents
	l.aside = o.contents + ".moved"
	l.mu.Unlock()
	l.noteLinkCounts()
	if !l.owns(o) {
		// The lock file names us but is not a link to our claim file any
		// more (the claim file was removed): the lock is not ours to keep.
		return nil, &Error{Op: op, Path: l.path, Holder: o.details(), Err: fmt.Errorf("%w: its claim file %s is gone or not linked to it", ErrNotLocked, o.contents)}
	}
	l.mu.Lock()
	l.held = true
	l.expiry = o.info.ModTime
	l.mu.Unlock()
	return l, nil
}
