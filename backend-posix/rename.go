//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import "golang.org/x/sys/unix"

// Rename renames oldname to newname, replacing newname if it exists, like
// os.Rename.
func (*FS) Rename(oldname, newname string) error {
	if err := ignoringEINTR(func() error { return unix.Rename(oldname, newname) }); err != nil {
		return linkError("rename", oldname, newname, err)
	}
	return nil
}
