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
