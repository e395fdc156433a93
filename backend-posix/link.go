//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// Link makes newname a hard link to oldname, like os.Link. It never replaces
// newname: if newname exists the error satisfies errors.Is(err, fs.ErrExist),
// even on filesystems, such as sshfs, that report a lost race as EPERM.
func (*FS) Link(oldname, newname string) error {
	err := ignoringEINTR(func() error { return unix.Link(oldname, newname) })
	if err == nil {
		return nil
	}
	exists := false
	if err == unix.EPERM {
		// Only worth a further system call when the answer could change
		// the error.
		exists = lexists(newname)
	}
	return linkError("link", oldname, newname, linkErrno(err, exists))
}

// linkErrno returns the error to report for a link that failed with errno,
// given whether newname exists after the failure.
//
// sshfs answers a link onto an existing name with EPERM rather than
// EEXIST: SFTP version 3 has no "file exists" status, so the server reports
// a generic failure, which sshfs maps to EPERM. Were it reported as a
// permission error, a locker that merely lost a race for the lock would give
// up. EPERM with newname present is therefore taken to mean "file exists".
// EPERM with newname absent is a genuine refusal (oldname is a directory,
// or the filesystem has no hard links) and stays EPERM.
func linkErrno(errno error, newnameExists bool) error {
	if errno == unix.EPERM && newnameExists {
		return permExistError{}
	}
	return errno
}

// permExistError is the error of a link that failed with EPERM onto a name
// that exists. It matches fs.ErrExist and unix.EEXIST, and not
// fs.ErrPermission, so that callers treat it as the lost race it is; its
// text keeps the EPERM for whoever reads the log.
type permExistError struct{}

func (permExistError) Error() string {
	return `operation not permitted (EPERM), treated as "file exists" because the new name exists`
}

func (permExistError) Is(target error) bool {
	return target == fs.ErrExist || target == unix.EEXIST
}

// lexists reports whether name exists, without following a final symbolic
// link: a link creates the name itself, whatever it would point to.
func lexists(name string) bool {
	var st unix.Stat_t
	return ignoringEINTR(func() error { return unix.Lstat(name, &st) }) == nil
}
