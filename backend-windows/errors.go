//go:build windows

package winfs

import (
	"io/fs"
	"os"
	"time"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/windows"
)

// pathError returns errno, the failure of op on path, as an *os.PathError.
func pathError(op, path string, errno error) error {
	return &os.PathError{Op: op, Path: path, Err: errno}
}

// linkError is pathError for operations on two names, link and rename.
func linkError(op, oldname, newname string, errno error) error {
	return &os.LinkError{Op: op, Old: oldname, New: newname, Err: errno}
}

// retryDelays are the waits between attempts of a call that failed with an
// error that usually clears within milliseconds (see retryable): about
// 100ms in all.
var retryDelays = []time.Duration{
	1 * time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond,
	30 * time.Millisecond,
}

// sharingErr reports whether err is a sharing or lock violation: another
// handle to the file was opened without sharing what this call needs.
func sharingErr(err error) bool {
	return err == windows.ERROR_SHARING_VIOLATION || err == windows.ERROR_LOCK_VIOLATION
}

// retry calls f until it succeeds, fails with an error for which retryable
// is false, or the retries run out; it returns f's last error.
func retry(retryable func(error) bool, f func() error) error {
	err := f()
	for _, d := range retryDelays {
		if err == nil || !retryable(err) {
			return err
		}
		time.Sleep(d)
		err = f()
	}
	return err
}

// utf16 converts name for a W function. A name with a NUL cannot name a
// file; the error is ERROR_INVALID_NAME, wrapped by the caller.
func utf16(name string) (*uint16, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, windows.ERROR_INVALID_NAME
	}
	return p, nil
}

// shareAll lets other handles read, write, rename and delete the file while
// this package has it open.
const shareAll = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE

// open opens name with access, creating or truncating as mode says
// (a CreateFile creation disposition), retrying sharing violations.
// FILE_FLAG_BACKUP_SEMANTICS lets it open directories too (for Stat and
// Chtimes); it grants nothing without the backup privilege.
func open(name string, access, mode, attrs uint32) (windows.Handle, error) {
	p, err := utf16(name)
	if err != nil {
		return windows.InvalidHandle, err
	}
	var h windows.Handle
	err = retry(sharingErr, func() error {
		var err error
		h, err = windows.CreateFile(p, access, shareAll, nil, mode, attrs, 0)
		return err
	})
	return h, err
}

// typeRefusal returns err, the failure of a call on the name p, as a
// *locker.NotRegularError if it is ERROR_ACCESS_DENIED and p holds a
// directory or a reparse point (a symbolic link or junction): the call was
// refused because of what is at the name, which locker.FS asks a backend to
// say so. Otherwise it returns err.
func typeRefusal(p *uint16, err error) error {
	if err != windows.ERROR_ACCESS_DENIED {
		return err
	}
	attrs, aerr := windows.GetFileAttributes(p)
	switch {
	case aerr != nil:
		return err
	case attrs&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
		return &locker.NotRegularError{Type: fs.ModeSymlink, Err: err}
	case attrs&windows.FILE_ATTRIBUTE_DIRECTORY != 0:
		return &locker.NotRegularError{Type: fs.ModeDir, Err: err}
	}
	return err
}
