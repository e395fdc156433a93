//go:build windows

package winfs

import (
	"time"

	"golang.org/x/sys/windows"
)

// Chtimes sets the access and modification times of name, like os.Chtimes,
// to the 100 ns that NTFS keeps, but of a symbolic link or junction at name
// itself (FILE_FLAG_OPEN_REPARSE_POINT), never of its target. As with
// os.Chtimes, a zero time.Time leaves that time unchanged.
func (*FS) Chtimes(name string, atime, mtime time.Time) error {
	h, err := open(name, windows.FILE_WRITE_ATTRIBUTES, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS|windows.FILE_FLAG_OPEN_REPARSE_POINT)
	if err != nil {
		return pathError("chtimes", name, err)
	}
	var a, m *windows.Filetime
	if !atime.IsZero() {
		ft := windows.NsecToFiletime(atime.UnixNano())
		a = &ft
	}
	if !mtime.IsZero() {
		ft := windows.NsecToFiletime(mtime.UnixNano())
		m = &ft
	}
	if err := windows.SetFileTime(h, nil, a, m); err != nil {
		windows.CloseHandle(h)
		return pathError("chtimes", name, err)
	}
	if err := windows.CloseHandle(h); err != nil {
		return pathError("chtimes", name, err)
	}
	return nil
}
