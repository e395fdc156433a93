//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Chtimes sets the access and modification times of name, like os.Chtimes,
// to the nanosecond where the filesystem keeps nanoseconds. As with
// os.Chtimes, a zero time.Time leaves that time unchanged.
func (*FS) Chtimes(name string, atime, mtime time.Time) error {
	if atime.IsZero() || mtime.IsZero() {
		// The locker always sets both times. os.Chtimes knows each
		// system's UTIME_OMIT, which x/sys/unix does not define for all.
		err := os.Chtimes(name, atime, mtime)
		if pe, ok := err.(*os.PathError); ok {
			return markTransient(pe.Err, err)
		}
		return err
	}
	var ts [2]unix.Timespec
	var err error
	if ts[0], err = unix.TimeToTimespec(atime); err != nil {
		return pathError("chtimes", name, err)
	}
	if ts[1], err = unix.TimeToTimespec(mtime); err != nil {
		return pathError("chtimes", name, err)
	}
	if err := ignoringEINTR(func() error { return unix.UtimesNano(name, ts[:]) }); err != nil {
		return pathError("chtimes", name, err)
	}
	return nil
}
