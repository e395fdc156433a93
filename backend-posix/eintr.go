//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import "golang.org/x/sys/unix"

// ignoringEINTR calls fn until it fails with something other than EINTR. A
// signal arriving during a system call says nothing about the file, so the
// call is simply made again, as package os does.
func ignoringEINTR(fn func() error) error {
	for {
		err := fn()
		if err != unix.EINTR {
			return err
		}
	}
}

// ignoringEINTR2 is ignoringEINTR for calls that also return a value.
func ignoringEINTR2[T any](fn func() (T, error)) (T, error) {
	for {
		v, err := fn()
		if err != unix.EINTR {
			return v, err
		}
	}
}
