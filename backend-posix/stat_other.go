//go:build darwin || freebsd || netbsd || openbsd

package posix

import (
	"io/fs"

	"github.com/nfslock/nfslock/locker"
)

// statFresh is lstat(2): these systems have no way to ask a network
// filesystem's client for attributes fresher than its cache.
func statFresh(name string) (locker.FileInfo, error) { return statPlain(name) }

// fstatFresh is fstat(2), for the same reason.
func fstatFresh(fd int) (locker.FileInfo, fs.FileMode, error) { return fstatPlain(fd) }
