package locker

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Errors returned by this package wrap one of these (or an
// error from the filesystem) and can be tested with errors.Is.
var (
	// ErrAlreadyLocked means this Lock value already holds the lock.
	ErrAlreadyLocked = errors.New("already locked by this Lock")
	// ErrNotLocked means this Lock value does not hold the lock: it was
	// never taken, was released, or was broken by another process after it
	// expired.
	ErrNotLocked = errors.New("not locked by this Lock")
	// ErrBusy means another claimant holds the lock and TryLock did not wait.
	ErrBusy = errors.New("lock is held by another claimant")
	// ErrTimeout means Lock gave up waiting. When the wait ended because the
	// context's deadline passed, the error also satisfies
	// errors.Is(err, context.DeadlineExceeded).
	ErrTimeout = errors.New("timed out waiting for lock")
	// ErrForeignFile means the lock path holds a file that is not a lock
	// (its contents are not a claim name), or an object no lock makes (a
	// directory, FIFO, socket, device, symbolic link, or a file longer than
	// MaxClaimLen; see FS.ReadFile), or that the break lock's path holds
	// something that is not a break lock, so no expired lock can be broken.
	// Such a file is never removed or modified; Lock returns this error at
	// once instead of waiting for a lock that can never be released.
	//
	// It also means that an operation met an object no lock makes at any
	// other of the lock's names, one that it could not read, remove, link
	// or rename over (a *NotRegularError or ErrTooLong from the backend;
	// see FS): at the fencing counter, at this Lock's claim file, or at a
	// name this Lock derives from it. Every *Error whose cause is such an
	// object satisfies errors.Is(err, ErrForeignFile).
	ErrForeignFile = errors.New("lock path holds a file that is not a lock")
	// ErrInvalid means New was given bad input: an empty path, a path that
	// is a directory or contains the separator, a non-positive lifetime, and
	// so on. The error's message says which.
	ErrInvalid = errors.New("invalid lock configuration")
)

// Error records a failed lock operation: what was done, to which lock file,
// why it failed and, where known, who held the lock.
type Error struct {
	Op     string   // "new", "lock", "trylock", "unlock", "refresh", ...
	Path   string   // the lock file
	Holder *Details // the lock's holder when the error was decided, or nil
	Err    error    // the underlying cause
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("nfslock: ")
	b.WriteString(e.Op)
	b.WriteString(" ")
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if h := e.Holder; h != nil {
		fmt.Fprintf(&b, " (held by host %q pid %d", h.Hostname, h.PID)
		if !h.Expires.IsZero() {
			fmt.Fprintf(&b, ", expires %s", h.Expires.Format(time.RFC3339Nano))
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrForeignFile and the cause is, or
// includes, an object no lock makes at one of the lock's names (see
// ErrForeignFile): whatever the operation was doing there, that object is
// why it failed.
func (e *Error) Is(target error) bool {
	return target == ErrForeignFile && isForeignObject(e.Err)
}

// timeoutError is the cause of a timeout: ErrTimeout, plus the context's
// error when the context ended the wait.
type timeoutError struct {
	after time.Duration // the default timeout that ran out, or 0
	ctx   error         // context.DeadlineExceeded, or nil
}

func (e *timeoutError) Error() string {
	if e.after > 0 {
		return fmt.Sprintf("%v after %v", ErrTimeout, e.after)
	}
	if e.ctx != nil {
		return fmt.Sprintf("%v: %v", ErrTimeout, e.ctx)
	}
	return ErrTimeout.Error()
}

func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

func (e *timeoutError) Unwrap() error { return e.ctx }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
