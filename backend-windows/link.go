//go:build windows

package winfs

import (
	"io/fs"

	"golang.org/x/sys/windows"
)

// Link makes newname a hard link to oldname with CreateHardLink. It never
// replaces newname: if newname exists, the error satisfies
// errors.Is(err, fs.ErrExist).
//
// CreateHardLink onto a name whose file was deleted while another handle
// still had it open (a "delete pending" file) fails with
// ERROR_ACCESS_DENIED until that handle closes, typically within
// milliseconds, so that error is retried; if it persists and newname still
// exists, it is reported as "exists" (a lost race), as it is not a
// permission problem of the locker's. A directory at oldname fails with a
// *locker.NotRegularError.
//
// locker.FS asks that a symbolic link at oldname be linked itself, not
// followed; CreateHardLink has no flag to say which, so that is left to the
// system. The locker links only names it has just made with WriteFile (its
// claim files) or moved aside itself.
func (*FS) Link(oldname, newname string) error {
	oldp, err := utf16(oldname)
	if err != nil {
		return linkError("link", oldname, newname, err)
	}
	newp, err := utf16(newname)
	if err != nil {
		return linkError("link", oldname, newname, err)
	}
	err = retry(func(err error) bool {
		return sharingErr(err) || err == windows.ERROR_ACCESS_DENIED
	}, func() error {
		return windows.CreateHardLink(newp, oldp, 0)
	})
	if err == nil {
		return nil
	}
	if err == windows.ERROR_ACCESS_DENIED && exists(newp) {
		err = accessExistError{}
	}
	return linkError("link", oldname, newname, typeRefusal(oldp, err))
}

// exists reports whether the name p exists (possibly delete pending).
func exists(p *uint16) bool {
	_, err := windows.GetFileAttributes(p)
	return err == nil || err == windows.ERROR_ACCESS_DENIED || sharingErr(err)
}

// accessExistError is the error of a link that failed with
// ERROR_ACCESS_DENIED onto a name that exists. It matches fs.ErrExist and
// windows.ERROR_ALREADY_EXISTS, not fs.ErrPermission.
type accessExistError struct{}

func (accessExistError) Error() string {
	return `access is denied (ERROR_ACCESS_DENIED), treated as "file exists" because the new name exists`
}

func (accessExistError) Is(target error) bool {
	return target == fs.ErrExist || target == windows.ERROR_ALREADY_EXISTS
}
