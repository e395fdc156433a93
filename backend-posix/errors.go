//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"os"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// pathError returns errno, the failure of op on path, as an *os.PathError.
// ESTALE is further wrapped with locker.Transient: NFS reports it when a file
// handle the client cached was replaced on the server, and a fresh lookup on
// the next attempt normally succeeds.
func pathError(op, path string, errno error) error {
	return markTransient(errno, &os.PathError{Op: op, Path: path, Err: errno})
}

// linkError is pathError for operations on two names, link and rename,
// which report an *os.LinkError.
func linkError(op, oldname, newname string, errno error) error {
	return markTransient(errno, &os.LinkError{Op: op, Old: oldname, New: newname, Err: errno})
}

// markTransient returns err, wrapped with locker.Transient if errno is
// ESTALE.
func markTransient(errno, err error) error {
	if errno == unix.ESTALE {
		return locker.Transient(err)
	}
	return err
}

// replacedError is pathError for a call on a name's file (a stat, a
// chtimes, a read), which also marks EIO transient: the Linux FUSE client
// fails with EIO a call on a name whose file was just replaced by one of
// another type (a file by a directory, say, as anyone who can write the
// directory can do at any moment), having marked the old inode bad; the
// next call looks the name up afresh. Other EIOs then cost a few retries
// before they are reported.
func replacedError(op, path string, errno error) error {
	if errno == unix.EIO {
		return locker.Transient(&os.PathError{Op: op, Path: path, Err: errno})
	}
	return pathError(op, path, errno)
}
