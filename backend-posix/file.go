//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"io"
	"io/fs"
	"slices"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// WriteFile creates the file name with permission bits perm (before the
// umask) and writes data to it, like os.WriteFile with O_EXCL: if anything
// exists at name, it fails with EEXIST (errors.Is(err, fs.ErrExist), also
// for sshfs's EPERM) and leaves it alone. O_CREAT|O_EXCL never follows a
// symbolic link at name, so a link put at a claim name cannot redirect the
// write, nor can a hard link to another file, a FIFO or a device. Only the
// permission bits of perm are used.
//
// It makes three system calls, open, write and close, where os.WriteFile
// makes more to register the file with the runtime's poller. An error from
// close is reported: on NFS, close is where the client flushes the data to
// the server and learns whether the write succeeded.
func (*FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	var fd int
	var err error
	for range linkEPERMTries {
		fd, err = ignoringEINTR2(func() (int, error) {
			return unix.Open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, uint32(perm.Perm()))
		})
		if err != unix.EPERM {
			break
		}
		// sshfs: what made the create fail may be gone already, as for
		// a link (see Link). Only a name still absent is tried again.
		if lexists(name) {
			break
		}
	}
	if err != nil {
		return pathError("open", name, createErrno(err, err == unix.EPERM && lexists(name)))
	}
	if err := writeAll(fd, data); err != nil {
		unix.Close(fd)
		return pathError("write", name, err)
	}
	// close is not retried on EINTR: the descriptor may already be released
	// and reused by another goroutine, so EINTR is reported like any error.
	if err := unix.Close(fd); err != nil {
		return pathError("close", name, err)
	}
	return nil
}

// createErrno returns the error to report for a create with O_EXCL that
// failed with errno, given whether name exists after the failure. sshfs
// answers a create onto an existing name with EPERM, as it answers a link
// (see linkErrno): EPERM with something at name is "file exists". WriteFile
// tries a create whose EPERM finds the name absent again, a few times, as
// Link does: what was in the way may have gone meanwhile.
func createErrno(errno error, nameExists bool) error {
	if errno == unix.EPERM && nameExists {
		return permExistError{}
	}
	return errno
}

// writeAll writes all of data to fd, continuing after short writes.
func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := ignoringEINTR2(func() (int, error) { return unix.Write(fd, data) })
		if err != nil {
			return err
		}
		if n <= 0 {
			// A regular file never accepts nothing without an error;
			// stop rather than spin.
			return io.ErrShortWrite
		}
		data = data[n:]
	}
	return nil
}

// readFlags open a name that anyone may have filled without following a
// symbolic link (O_NOFOLLOW), without waiting for a FIFO's writer or a
// device (O_NONBLOCK) and without making a terminal the controlling one
// (O_NOCTTY).
const readFlags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY

// ReadFile returns the contents of the regular file name, like os.ReadFile,
// within the limits locker.FS sets: it does not follow a symbolic link at
// name, never blocks, and reads at most locker.MaxClaimLen+1 bytes.
//
// Anything but a regular file (a symbolic link, a directory, a FIFO, a
// socket, a device) fails with a *locker.NotRegularError, judged by fstat
// on the open descriptor; when the open itself fails, see openRefusal. A
// file longer than locker.MaxClaimLen fails with locker.ErrTooLong. Both
// errors come wrapped in an *os.PathError.
//
// Lock and claim files hold a hundred bytes or so, so it reads into a
// 256-byte buffer, growing it only for a larger file.
func (*FS) ReadFile(name string) ([]byte, error) {
	data, _, err := readFile(name, fstatPlain)
	return data, err
}

// ReadFileInfo is ReadFile that also describes the file it read, as Stat
// would, from the descriptor it read by: the contents and the attributes
// are one file's, even if another replaces it at name meanwhile. On Linux
// the attributes are fetched afresh from a network filesystem's server, as
// Stat's are (statx with AT_STATX_FORCE_SYNC, on the descriptor). It saves
// the Lock that reads the lock file the round trip of a Stat after it
// (see locker.InfoReader).
func (*FS) ReadFileInfo(name string) ([]byte, locker.FileInfo, error) {
	return readFile(name, fstatFresh)
}

// readFile is ReadFile and ReadFileInfo, describing the open file with
// stat: fstatPlain or fstatFresh.
func readFile(name string, stat func(fd int) (locker.FileInfo, fs.FileMode, error)) ([]byte, locker.FileInfo, error) {
	fd, err := ignoringEINTR2(func() (int, error) { return unix.Open(name, readFlags, 0) })
	if err != nil {
		if err != unix.ENOENT {
			t, ok := lstatType(name)
			err = openRefusal(err, t, ok)
		}
		return nil, locker.FileInfo{}, replacedError("open", name, err)
	}
	// As in os.ReadFile, a close error after a complete read is not
	// reported: nothing was written that close could fail to flush.
	defer unix.Close(fd)
	fi, t, err := stat(fd)
	if err != nil {
		return nil, locker.FileInfo{}, replacedError("stat", name, err)
	}
	if t != 0 {
		return nil, locker.FileInfo{}, pathError("open", name, &locker.NotRegularError{Type: t})
	}
	if fi.Size > locker.MaxClaimLen {
		return nil, locker.FileInfo{}, pathError("read", name, locker.ErrTooLong)
	}
	data, err := readAtMost(fd, make([]byte, 0, max(256, fi.Size+1)), locker.MaxClaimLen, fi.Size)
	if err != nil {
		return nil, locker.FileInfo{}, replacedError("read", name, err)
	}
	return data, fi, nil
}

// fstatPlain describes the open file fd by fstat(2), which a network
// filesystem's client may answer from its attribute cache, and returns its
// type as fileType does.
func fstatPlain(fd int) (locker.FileInfo, fs.FileMode, error) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return locker.FileInfo{}, 0, err
	}
	return fileInfo(&st), fileType(uint32(st.Mode)), nil
}

// readAtMost appends to buf what remains to be read from fd, up to end of
// file, or fails with locker.ErrTooLong once buf would hold more than limit
// bytes: a file may grow while it is read. size is the file's size as the
// stat of fd just said: a first read that returns exactly that many bytes,
// fewer than it asked for, stopped at the end of the file, and the read
// that would find it (a round trip through a network filesystem whose
// client does not cache) is not made. A file that grew meanwhile is read
// as it was at the stat.
func readAtMost(fd int, buf []byte, limit int, size int64) ([]byte, error) {
	for first := true; len(buf) <= limit; first = false {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(len(buf), 256))
		}
		end := min(cap(buf), limit+1)
		n, err := ignoringEINTR2(func() (int, error) { return unix.Read(fd, buf[len(buf):end]) })
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if first && int64(n) == size && len(buf) < end {
			return buf, nil
		}
	}
	return nil, locker.ErrTooLong
}

// openRefusal returns the error to report for an open of a name with
// readFlags that failed with errno, given the type lstat found at the name
// just after (t, if ok). O_NOFOLLOW refuses a symbolic link with ELOOP,
// EMLINK or EFTYPE depending on the system, and a socket cannot be opened:
// lstat tells what is there, and the refusal is a *locker.NotRegularError
// of that type. If the name holds a regular file or nothing by the time of
// the lstat (someone replaced the link in between), it was still a
// symbolic link that the open refused.
func openRefusal(errno error, t fs.FileMode, ok bool) error {
	switch {
	case ok && t != 0:
		return &locker.NotRegularError{Type: t, Err: errno}
	case errno == unix.ELOOP, errno == unix.EMLINK, errno == unix.EFTYPE:
		return &locker.NotRegularError{Type: fs.ModeSymlink, Err: errno}
	}
	return errno
}

// lstatType returns the type of what is at name, without following a
// symbolic link, as fileType does, and whether lstat succeeded.
func lstatType(name string) (fs.FileMode, bool) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Lstat(name, &st) }); err != nil {
		return 0, false
	}
	return fileType(uint32(st.Mode)), true
}

// fileType returns the type bits of a stat mode as fs.FileMode has them,
// zero for a regular file. (Mode is 16 bits wide on some systems, 32 on
// others, hence the conversion at the call sites.)
func fileType(mode uint32) fs.FileMode {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return 0
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}
