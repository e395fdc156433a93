//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package conformance

import (
	"errors"
	"fmt"
	"runtime"
)

func mkfifo(string) error {
	return fmt.Errorf("%w: no FIFOs on %s", errors.ErrUnsupported, runtime.GOOS)
}

func mkcharDevice(string) error {
	return fmt.Errorf("%w: no device files on %s", errors.ErrUnsupported, runtime.GOOS)
}

// symlinkUnsupported reports whether a failure to make a symbolic link
// means this process may not make them. Here any failure is taken so:
// Windows refuses links without a privilege or developer mode, in more
// ways than one error code, and Wine may not make them at all.
func symlinkUnsupported(error) bool { return true }
