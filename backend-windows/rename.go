//go:build windows

package winfs

import "golang.org/x/sys/windows"

// Rename renames oldname to newname, replacing newname if it exists, like
// os.Rename, with MoveFileEx(MOVEFILE_REPLACE_EXISTING). Sharing
// violations and ERROR_ACCESS_DENIED (newname delete pending, or open
// without FILE_SHARE_DELETE) are retried briefly. A rename refused because
// a directory is at either name fails with a *locker.NotRegularError.
func (*FS) Rename(oldname, newname string) error {
	oldp, err := utf16(oldname)
	if err != nil {
		return linkError("rename", oldname, newname, err)
	}
	newp, err := utf16(newname)
	if err != nil {
		return linkError("rename", oldname, newname, err)
	}
	err = retry(func(err error) bool {
		return sharingErr(err) || err == windows.ERROR_ACCESS_DENIED
	}, func() error {
		return windows.MoveFileEx(oldp, newp, windows.MOVEFILE_REPLACE_EXISTING)
	})
	if err != nil {
		if refused := typeRefusal(newp, err); refused != err {
			return linkError("rename", oldname, newname, refused)
		}
		return linkError("rename", oldname, newname, typeRefusal(oldp, err))
	}
	return nil
}
