//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"time"

	"golang.org/x/sys/unix"
)

// Chtimes sets the access and modification times of name, like os.Chtimes,
// to the nanosecond where the filesystem keeps nanoseconds, but of a
// symbolic link at name itself, never of the file it points to
// (utimensat with AT_SYMLINK_NOFOLLOW). As with os.Chtimes, a zero
// time.Time leaves that time unchanged. sshfs cannot keep this: its server
// sets times by path and follows a link there, whatever the client asks
// (see docs/security.md).
func (*FS) Chtimes(name string, atime, mtime time.Time) error {
	var ts [2]unix.Timespec
	if atime.IsZero() || mtime.IsZero() {
		// The locker always sets both times. x/sys/unix does not define
		// UTIME_OMIT for every system, so keep a time by reading it.
		var st unix.Stat_t
		if err := ignoringEINTR(func() error { return unix.Lstat(name, &st) }); err != nil {
			return replacedError("chtimes", name, err)
		}
		ts[0], ts[1] = st.Atim, st.Mtim
	}
	var err error
	if !atime.IsZero() {
		if ts[0], err = unix.TimeToTimespec(atime); err != nil {
			return replacedError("chtimes", name, err)
		}
	}
	if !mtime.IsZero() {
		if ts[1], err = unix.TimeToTimespec(mtime); err != nil {
			return replacedError("chtimes", name, err)
		}
	}
	if err := ignoringEINTR(func() error {
		return unix.UtimesNanoAt(unix.AT_FDCWD, name, ts[:], unix.AT_SYMLINK_NOFOLLOW)
	}); err != nil {
		return replacedError("chtimes", name, err)
	}
	return nil
}
