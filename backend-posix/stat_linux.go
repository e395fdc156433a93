//go:build linux

package posix

import (
	"time"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// statFresh describes name with statx(2), not following a symbolic link
// (AT_SYMLINK_NOFOLLOW), and with AT_STATX_FORCE_SYNC, which makes a
// network filesystem's client (NFS, FUSE filesystems such as sshfs) fetch
// the attributes from the server instead of answering from its attribute
// cache, and costs nothing more on a local filesystem. A Lock releases a
// lock it holds after a Stat of its claim file shows it still linked to the
// lock file: a cached link count could hide that someone removed the lock
// file meanwhile. Kernels older than 4.11 have no statx; there it is
// lstat(2).
func statFresh(name string) (locker.FileInfo, error) {
	const mask = unix.STATX_TYPE | unix.STATX_NLINK | unix.STATX_SIZE | unix.STATX_MTIME
	var st unix.Statx_t
	err := ignoringEINTR(func() error {
		return unix.Statx(unix.AT_FDCWD, name, unix.AT_STATX_FORCE_SYNC|unix.AT_SYMLINK_NOFOLLOW, mask, &st)
	})
	switch err {
	case nil:
		return locker.FileInfo{
			ModTime: time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec)),
			Links:   uint64(st.Nlink),
			Size:    int64(st.Size),
			IsDir:   uint32(st.Mode)&unix.S_IFMT == unix.S_IFDIR,
		}, nil
	case unix.ENOSYS:
		return statPlain(name)
	}
	return locker.FileInfo{}, replacedError("stat", name, err)
}
