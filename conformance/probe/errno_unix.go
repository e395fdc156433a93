//go:build unix

package probe

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrnoName names the system error in err, as "EEXIST (file exists)", and
// says "ok" for nil.
func ErrnoName(err error) string {
	if err == nil {
		return "ok"
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		if name := unix.ErrnoName(en); name != "" {
			return name + " (" + en.Error() + ")"
		}
		return en.Error()
	}
	return err.Error()
}
