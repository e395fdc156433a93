//go:build windows

package winfs

import (
	"time"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/windows"
)

// Stat describes name, like os.Lstat: a symbolic link or junction at name
// is described itself (FILE_FLAG_OPEN_REPARSE_POINT), never followed, as
// locker.FS asks. Links is NumberOfLinks from GetFileInformationByHandle.
func (*FS) Stat(name string) (locker.FileInfo, error) {
	h, err := open(name, windows.FILE_READ_ATTRIBUTES, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS|windows.FILE_FLAG_OPEN_REPARSE_POINT)
	if err != nil {
		return locker.FileInfo{}, pathError("stat", name, err)
	}
	defer windows.CloseHandle(h)
	var d windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &d); err != nil {
		return locker.FileInfo{}, pathError("stat", name, err)
	}
	return fileInfo(&d), nil
}

func fileInfo(d *windows.ByHandleFileInformation) locker.FileInfo {
	return locker.FileInfo{
		ModTime: time.Unix(0, d.LastWriteTime.Nanoseconds()),
		Links:   uint64(d.NumberOfLinks),
		Size:    int64(d.FileSizeHigh)<<32 | int64(d.FileSizeLow),
		// A directory's symbolic link or junction is no directory, as
		// for lstat.
		IsDir: d.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0 && d.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT == 0,
	}
}
