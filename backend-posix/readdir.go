//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

var _ locker.DirReader = (*FS)(nil)

// ReadDirNames returns the names of the entries of the directory dir, in
// directory order, without "." and "..", like os.File.Readdirnames. It
// implements locker.DirReader, so that a waiting lock can find and remove
// the claim files of dead claimants, and see whether others wait for the
// lock it is about to take again.
//
// dir is opened with O_DIRECTORY, so that a FIFO or device at dir fails at
// once with ENOTDIR instead of blocking the open. It reads the entries with
// getdents itself: an *os.File would also register the descriptor with the
// runtime's poller, two more system calls for each listing, which a lock
// under contention makes once per turn.
func (*FS) ReadDirNames(dir string) ([]string, error) {
	fd, err := ignoringEINTR2(func() (int, error) {
		return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	})
	if err != nil {
		return nil, pathError("open", dir, err)
	}
	defer unix.Close(fd)
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := ignoringEINTR2(func() (int, error) { return unix.ReadDirent(fd, buf) })
		if err != nil {
			return nil, markTransient(err, pathError("readdirent", dir, err))
		}
		if n <= 0 {
			return names, nil
		}
		for b := buf[:n]; len(b) > 0; {
			consumed, _, more := unix.ParseDirent(b, -1, names)
			names = more
			if consumed <= 0 {
				break
			}
			b = b[consumed:]
		}
	}
}
