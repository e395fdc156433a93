package locker

import (
	"errors"
	"fmt"
	"io/fs"
)

// writeFresh creates the file name, which is one of this Lock's own names
// (its claim file, break claim or temporary token file), and writes data
// to it. The backend's WriteFile never writes through anything already at
// a name (see FS), so that a symbolic link, a hard link to someone's file,
// or a FIFO put at a claim name cannot turn the write into a write
// elsewhere. What is found there is either this Lock's own file, left by
// an earlier attempt whose clean-up failed, or something put there by
// someone else at a name that is this Lock's alone; either way it is
// removed (remove never follows a link) and the file made afresh.
// Something found there again each time it was removed was put back by
// someone else at work in the directory: the error then wraps ErrBusy.
func (l *Lock) writeFresh(name string, data []byte) error {
	// A create whose reply was lost (the retried request finds the file
	// it made) looks the same as a file found there: so the remove and
	// the write are tried again (see retry.go). So is a write that fails
	// for a moment (ESTALE): on NFS, the file just made was replaced at
	// its name before the write reached it, and the name holds what
	// replaced it.
	var err, removeErr error
	retry(func(try int) bool {
		if try > 0 {
			if removeErr = l.fsys.Remove(name); removeErr != nil && !isNotExist(removeErr) {
				return true
			}
			l.log.Debug("removed a file found at a claim name before writing it afresh", "name", name)
		}
		err = l.fsys.WriteFile(name, data, 0o666)
		return !errors.Is(err, fs.ErrExist) && !l.retryable(err)
	})
	if removeErr != nil && !isNotExist(removeErr) {
		return fmt.Errorf("%w; removing what is there: %w", err, removeErr)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: something was put at %s again each time it was removed: %w", ErrBusy, name, err)
	}
	return err
}
