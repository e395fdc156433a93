package locker

import (
	"errors"
	"fmt"
	"os"
)

// Reading what others may have put at the lock's names.
//
// Anyone who can write the lock's directory can put anything at the lock
// path or the break lock's path: a FIFO, whose read blocks until someone
// writes to it; a symbolic link, dangling or pointing at a file that looks
// like a claim; a device that never stops giving bytes; a sparse file of
// gigabytes. No lock makes any of these, so each is a foreign file. The
// backend's ReadFile refuses them (see FS) without blocking and without
// reading more than a claim name's length, and the locker reports them with
// ErrForeignFile and never touches them.

// readBounded reads name with the backend's ReadFile, and also refuses more
// than MaxClaimLen bytes from a backend that does not itself stop there.
func (l *Lock) readBounded(name string) ([]byte, error) {
	data, err := l.fsys.ReadFile(name)
	if err == nil && len(data) > MaxClaimLen {
		return nil, &os.PathError{Op: "read", Path: name, Err: ErrTooLong}
	}
	return data, err
}

// isForeignObject reports whether err, from readBounded, says that name
// holds something no lock makes: not a regular file, or too long a file.
func isForeignObject(err error) bool {
	return errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLong)
}

// asForeign returns err, wrapped with ErrForeignFile, if err is or
// includes an object no lock makes at one of the lock's names
// (isForeignObject) and does not say so already; otherwise err.
func asForeign(err error) error {
	if err == nil || errors.Is(err, ErrForeignFile) || !isForeignObject(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrForeignFile, err)
}

// notALock returns the error, wrapping ErrForeignFile, that says why the
// lock file o saw is not a lock.
func (o observation) notALock() error {
	if o.foreign != nil {
		return fmt.Errorf("%w: %w", ErrForeignFile, o.foreign)
	}
	return fmt.Errorf("%w (it contains %q)", ErrForeignFile, excerpt(o.contents))
}

// foreignBreakLock returns the error, wrapping ErrForeignFile, for a break
// lock path that holds something that is not a break lock (see break.go):
// then no expired lock can be broken, and waiting for one is futile.
func (l *Lock) foreignBreakLock(cause error) error {
	return fmt.Errorf("%w: the break lock path %s holds something no lock makes, so no expired lock can be broken: %w", ErrForeignFile, l.breakPath, cause)
}
