//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"os"

	"golang.org/x/sys/unix"
)

// ProcessAlive reports whether process pid is running on this machine, by
// sending it signal 0, which checks that the process exists without
// disturbing it. host is ignored: the locker asks only about processes on
// its own host. A process that exists but belongs to another user (EPERM)
// counts as alive; a pid that is not positive names no single process and is
// reported dead. A zombie, exited but not yet reaped by its parent, still
// counts as alive.
func (*FS) ProcessAlive(host string, pid int) (bool, error) {
	if pid <= 0 {
		return false, nil
	}
	switch err := unix.Kill(pid, 0); err {
	case nil, unix.EPERM:
		return true, nil
	case unix.ESRCH:
		return false, nil
	default:
		return false, os.NewSyscallError("kill", err)
	}
}
