//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"errors"
	"os"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

var _ locker.DirReader = (*FS)(nil)

// ReadDirNames returns the names of the entries of the directory dir, in
// directory order, without "." and "..", like os.File.Readdirnames. It
// implements locker.DirReader, so that a waiting lock can find and remove
// the claim files of dead claimants.
//
// dir is opened with O_DIRECTORY, so that a FIFO or device at dir fails at
// once with ENOTDIR instead of blocking the open. A lock lists its directory
// at most once per lifetime, so this is not on the hot path.
func (*FS) ReadDirNames(dir string) ([]string, error) {
	fd, err := ignoringEINTR2(func() (int, error) {
		return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	})
	if err != nil {
		return nil, pathError("open", dir, err)
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return nil, markTransient(errno, err)
		}
		return nil, err
	}
	return names, nil
}
