// Package winfs is the locker.FS of Windows, reached through
// golang.org/x/sys/windows.
//
// Each method is one or two Win32 calls:
//
//	WriteFile  CreateFile(CREATE_ALWAYS) + WriteFile + CloseHandle
//	ReadFile   CreateFile(OPEN_EXISTING) + ReadFile + CloseHandle
//	Link       CreateHardLink
//	Stat       CreateFile(FILE_READ_ATTRIBUTES) + GetFileInformationByHandle
//	Chtimes    CreateFile(FILE_WRITE_ATTRIBUTES) + SetFileTime
//	Rename     MoveFileEx(MOVEFILE_REPLACE_EXISTING)
//	Remove     MoveFileEx (to a unique name) + DeleteFile
//
// ProcessAlive (locker.ProcessChecker) is OpenProcess +
// GetExitCodeProcess, and ReadDirNames (locker.DirReader) is package os's
// directory listing.
//
// Every file is opened with FILE_SHARE_READ|FILE_SHARE_WRITE|
// FILE_SHARE_DELETE, so that this package never stops another process from
// reading, renaming or deleting a lock file it has open, and handles are
// held only for the duration of one call. A call that nevertheless meets a
// sharing violation (a virus scanner, an indexer, or another program that
// opened the file without FILE_SHARE_DELETE), or that meets a name whose
// deletion is still pending (ERROR_ACCESS_DENIED until the last handle to a
// deleted file closes), is retried a few times over about a tenth of a
// second before the error is reported.
//
// Errors are *os.PathError (or *os.LinkError for Link and Rename) wrapping
// the syscall.Errno, so errors.Is(err, fs.ErrExist) and
// errors.Is(err, fs.ErrNotExist) hold as they do for package os.
//
// Link counts come from NumberOfLinks of BY_HANDLE_FILE_INFORMATION, which
// NTFS and ReFS report, as do SMB servers that report link counts. On a
// filesystem without hard links (FAT, exFAT) Link fails and the locker
// cannot be used there.
//
// The package builds only for Windows; doc.go alone has no build constraint
// so that the package is documented on every platform. How it is tested
// (under Wine), and the separator to use where Windows and POSIX hosts
// share a lock directory, are in docs/windows.md in the repository.
package winfs
