//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"io/fs"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// Rename renames oldname to newname, replacing newname if it exists, like
// os.Rename. A rename refused because a directory is at one name and not at
// the other, or a directory that is not empty is at newname (EISDIR,
// ENOTDIR, ENOTEMPTY, EEXIST), fails with a *locker.NotRegularError: the
// locker renames only files, and a directory at one of its names is not
// one of them.
func (*FS) Rename(oldname, newname string) error {
	if err := ignoringEINTR(func() error { return unix.Rename(oldname, newname) }); err != nil {
		return linkError("rename", oldname, newname, renameErrno(err))
	}
	return nil
}

// renameErrno returns the error to report for a rename that failed with
// errno. Within the lock's directory, EISDIR, ENOTDIR, ENOTEMPTY and EEXIST
// can only mean a directory at one name and not at the other, or a
// directory that is not empty at newname, whatever is at them by the time
// anyone looks again.
func renameErrno(errno error) error {
	switch errno {
	case unix.EISDIR, unix.ENOTDIR, unix.ENOTEMPTY, unix.EEXIST:
		return &locker.NotRegularError{Type: fs.ModeDir, Err: errno}
	}
	return errno
}
