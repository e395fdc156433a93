//go:build windows

package winfs

import (
	"math/rand/v2"
	"strconv"

	"golang.org/x/sys/windows"
)

// Remove removes the file name, like os.Remove except that it never
// removes a directory: the locker removes only files it made.
//
// It first renames name to a unique name in the same directory
// (name + ".nfslock-removed-" + a random number) and then deletes that.
// Deleting a file that another handle has open only marks it delete
// pending: its name stays until the last handle closes, and with the
// classic (non-POSIX) semantics of DeleteFile, used on SMB shares, FAT and
// under Wine, the name is then unlinked even if it has meanwhile been made
// again. The locker reuses a claim file's name for every acquisition by a
// Lock value, so a delete pending on the old claim would remove the new
// one. Renaming first frees the name at once, and the deferred unlink hits
// only the unique name. If the delete fails (the name was a directory, or
// a read-only file), the rename is undone; a directory (or a directory's
// symbolic link or junction) fails with a *locker.NotRegularError.
//
// Sharing violations and ERROR_ACCESS_DENIED (the file is open without
// FILE_SHARE_DELETE) are retried briefly.
func (*FS) Remove(name string) error {
	p, err := utf16(name)
	if err != nil {
		return pathError("remove", name, err)
	}
	tmpName := name + ".nfslock-removed-" + strconv.FormatUint(rand.Uint64(), 36)
	tmp, err := utf16(tmpName)
	if err != nil {
		return pathError("remove", name, err)
	}
	retryable := func(err error) bool { return sharingErr(err) || err == windows.ERROR_ACCESS_DENIED }
	err = retry(retryable, func() error { return windows.MoveFileEx(p, tmp, 0) })
	if err != nil {
		if err == windows.ERROR_FILE_NOT_FOUND || err == windows.ERROR_PATH_NOT_FOUND {
			return pathError("remove", name, err)
		}
		// Could not move it aside (a filesystem that refuses renames
		// of open files, say): delete in place.
		err = retry(retryable, func() error { return windows.DeleteFile(p) })
		if err != nil {
			return pathError("remove", name, typeRefusal(p, err))
		}
		return nil
	}
	err = retry(retryable, func() error { return windows.DeleteFile(tmp) })
	if err != nil {
		windows.MoveFileEx(tmp, p, 0)
		return pathError("remove", name, typeRefusal(p, err))
	}
	return nil
}
