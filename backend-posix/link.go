//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"io/fs"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// Link makes newname a hard link to oldname, like os.Link. It never replaces
// newname: if newname exists the error satisfies errors.Is(err, fs.ErrExist),
// even on filesystems, such as sshfs, that report a lost race as EPERM. A
// symbolic link at oldname is linked itself, not followed: it calls linkat
// without AT_SYMLINK_FOLLOW, where link(2) follows it on macOS and the BSDs.
//
// On sshfs with several clients, a link can fail with EPERM because another
// client's link won the name, and that client can remove the name again
// before this one looks: EPERM with newname absent is then a lost race, not
// a refusal. Link tries again, up to linkEPERMTries times in all, before it
// takes such an EPERM for a refusal.
func (*FS) Link(oldname, newname string) error {
	var err error
	for range linkEPERMTries {
		err = ignoringEINTR(func() error { return unix.Linkat(unix.AT_FDCWD, oldname, unix.AT_FDCWD, newname, 0) })
		if err == nil {
			return nil
		}
		if err != unix.EPERM {
			break
		}
		// Only worth a further system call when the answer could change
		// the error.
		if lexists(newname) {
			return linkError("link", oldname, newname, linkErrno(err, oldname, true))
		}
	}
	return linkError("link", oldname, newname, linkErrno(err, oldname, false))
}

// linkEPERMTries bounds the attempts of a link that fails with EPERM onto a
// name that is then found absent. A real refusal (hard links not supported,
// oldname a directory) fails every time; a lost race between clients is
// unlikely to recur even twice.
const linkEPERMTries = 3

// linkErrno returns the error to report for a link from oldname that
// failed with errno, given whether newname exists after the failure.
//
// sshfs answers a link onto an existing name with EPERM rather than
// EEXIST: SFTP version 3 has no "file exists" status, so the server reports
// a generic failure, which sshfs maps to EPERM. Were it reported as a
// permission error, a locker that merely lost a race for the lock would give
// up. EPERM with newname present is therefore taken to mean "file exists".
// EPERM with newname absent is a genuine refusal: oldname is a directory,
// reported as a *locker.NotRegularError (the locker links only files, and a
// directory at one of its names is not one of them), or the filesystem has
// no hard links, which stays EPERM.
func linkErrno(errno error, oldname string, newnameExists bool) error {
	switch {
	case errno == unix.EPERM && newnameExists:
		return permExistError{}
	case errno == unix.EPERM && isDir(oldname):
		return &locker.NotRegularError{Type: fs.ModeDir, Err: errno}
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
