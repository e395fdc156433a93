//go:build linux

package posix

import (
	"io/fs"
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
	var st unix.Statx_t
	err := ignoringEINTR(func() error {
		return unix.Statx(unix.AT_FDCWD, name, unix.AT_STATX_FORCE_SYNC|unix.AT_SYMLINK_NOFOLLOW, statxMask, &st)
	})
	switch err {
	case nil:
		return statxInfo(&st), nil
	case unix.ENOSYS:
		return statPlain(name)
	}
	return locker.FileInfo{}, replacedError("stat", name, err)
}

// fstatFresh is statFresh of the open file fd (statx with AT_EMPTY_PATH),
// and returns its type as fileType does; fstat(2) where there is no statx.
func fstatFresh(fd int) (locker.FileInfo, fs.FileMode, error) {
	var st unix.Statx_t
	err := ignoringEINTR(func() error {
		return unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_STATX_FORCE_SYNC, statxMask, &st)
	})
	switch err {
	case nil:
		return statxInfo(&st), fileType(uint32(st.Mode)), nil
	case unix.ENOSYS:
		return fstatPlain(fd)
	}
	return locker.FileInfo{}, 0, err
}

// statxMask is what statFresh and fstatFresh ask statx for.
const statxMask = unix.STATX_TYPE | unix.STATX_NLINK | unix.STATX_SIZE | unix.STATX_MTIME

func statxInfo(st *unix.Statx_t) locker.FileInfo {
	return locker.FileInfo{
		ModTime: time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec)),
		Links:   uint64(st.Nlink),
		Size:    int64(st.Size),
		IsDir:   uint32(st.Mode)&unix.S_IFMT == unix.S_IFDIR,
	}
}
