//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import "golang.org/x/sys/unix"

// Remove removes the file name, like os.Remove, except that it never
// removes a directory: the locker removes only files it made, and a
// directory at one of its names is not one of them.
func (*FS) Remove(name string) error {
	if err := ignoringEINTR(func() error { return unix.Unlink(name) }); err != nil {
		return pathError("remove", name, err)
	}
	return nil
}
