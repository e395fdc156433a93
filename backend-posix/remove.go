//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"io/fs"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// Remove removes the file name, like os.Remove, except that it never
// removes a directory: the locker removes only files it made, and a
// directory at one of its names is not one of them. For a directory it
// fails with a *locker.NotRegularError (errors.Is(err,
// locker.ErrNotRegular)), which unlink(2) reports as EISDIR on Linux and
// EPERM elsewhere.
func (*FS) Remove(name string) error {
	err := ignoringEINTR(func() error { return unix.Unlink(name) })
	switch {
	case err == nil:
		return nil
	case err == unix.EISDIR, err == unix.EPERM && isDir(name):
		return pathError("remove", name, &locker.NotRegularError{Type: fs.ModeDir, Err: err})
	}
	return pathError("remove", name, err)
}

// isDir reports whether name is a directory, not following a symbolic
// link.
func isDir(name string) bool {
	t, ok := lstatType(name)
	return ok && t == fs.ModeDir
}
