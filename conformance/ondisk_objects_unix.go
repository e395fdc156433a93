//go:build linux || darwin || freebsd || netbsd || openbsd

package conformance

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

func mkfifo(path string) error {
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		if refused(err) {
			return fmt.Errorf("%w: mkfifo: %w", errors.ErrUnsupported, err)
		}
		return &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	return nil
}

// refused reports whether err says that the filesystem or the system does
// not make such objects (sshfs refuses FIFOs with EPERM, for one).
func refused(err error) bool {
	return err == syscall.EPERM || err == syscall.ENOSYS || err == syscall.EOPNOTSUPP || err == syscall.EINVAL
}

// mkcharDevice makes a character device like /dev/null (major 1, minor 3,
// encoded as Linux's dev_t has it), where it can: on Linux, as root, where
// the kernel lets root make devices (not in every container).
func mkcharDevice(path string) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w: device numbers differ on %s", errors.ErrUnsupported, runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: making a device needs root", errors.ErrUnsupported)
	}
	const devNull = 1<<8 | 3
	if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, devNull); err != nil {
		if refused(err) {
			return fmt.Errorf("%w: mknod: %w", errors.ErrUnsupported, err)
		}
		return &os.PathError{Op: "mknod", Path: path, Err: err}
	}
	return nil
}

func symlinkUnsupported(error) bool { return false }
