//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"io"
	"io/fs"
	"slices"

	"golang.org/x/sys/unix"
)

// WriteFile writes data to name, creating it with permission bits perm
// (before the umask) or truncating it if it exists, like os.WriteFile. Only
// the permission bits of perm are used.
//
// It makes three system calls, open, write and close, where os.WriteFile
// makes more to register the file with the runtime's poller. An error from
// close is reported: on NFS, close is where the client flushes the data to
// the server and learns whether the write succeeded.
func (*FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	fd, err := ignoringEINTR2(func() (int, error) {
		return unix.Open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, uint32(perm.Perm()))
	})
	if err != nil {
		return pathError("open", name, err)
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

// ReadFile returns the contents of name, like os.ReadFile.
//
// Lock and claim files hold a hundred bytes or so, so it reads into a
// 256-byte buffer, growing it only for a larger file, rather than asking the
// size with fstat first.
func (*FS) ReadFile(name string) ([]byte, error) {
	fd, err := ignoringEINTR2(func() (int, error) {
		return unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, pathError("open", name, err)
	}
	// As in os.ReadFile, a close error after a complete read is not
	// reported: nothing was written that close could fail to flush.
	defer unix.Close(fd)
	data, err := readAll(fd, make([]byte, 0, 256))
	if err != nil {
		return nil, pathError("read", name, err)
	}
	return data, nil
}

// readAll appends to buf what remains to be read from fd, up to end of file.
func readAll(fd int, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := ignoringEINTR2(func() (int, error) { return unix.Read(fd, buf[len(buf):cap(buf)]) })
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
