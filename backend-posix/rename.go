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
	err := ignoringEINTR(func() error { return unix.Rename(oldname, newname) })
	switch {
	case err == nil:
		return nil
	case err == unix.EISDIR, err == unix.ENOTEMPTY, err == unix.EEXIST,
		err == unix.ENOTDIR && (isDir(oldname) || isDir(newname)):
		return linkError("rename", oldname, newname, &locker.NotRegularError{Type: fs.ModeDir, Err: err})
	}
	return linkError("rename", oldname, newname, err)
}
