//go:build windows

package winfs

import (
	"io"
	"io/fs"
	"slices"

	"golang.org/x/sys/windows"
)

// WriteFile writes data to name, creating it or truncating it if it
// exists, like os.WriteFile. As package os does on Windows, perm only
// decides whether the file is read-only (no owner write bit); the rest is
// ignored. An error from CloseHandle is reported: on SMB, close is where
// the client may learn that a cached write failed.
func (*FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	attrs := uint32(windows.FILE_ATTRIBUTE_NORMAL)
	if perm&0o200 == 0 {
		attrs = windows.FILE_ATTRIBUTE_READONLY
	}
	h, err := open(name, windows.GENERIC_WRITE, windows.CREATE_ALWAYS, attrs)
	if err != nil {
		return pathError("open", name, err)
	}
	if err := writeAll(h, data); err != nil {
		windows.CloseHandle(h)
		return pathError("write", name, err)
	}
	if err := windows.CloseHandle(h); err != nil {
		return pathError("close", name, err)
	}
	return nil
}

// writeAll writes all of data to h, continuing after short writes.
func writeAll(h windows.Handle, data []byte) error {
	for len(data) > 0 {
		chunk := data
		if len(chunk) > 1<<30 {
			chunk = chunk[:1<<30]
		}
		var n uint32
		if err := windows.WriteFile(h, chunk, &n, nil); err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		data = data[n:]
	}
	return nil
}

// ReadFile returns the contents of name, like os.ReadFile. Lock and claim
// files hold a hundred bytes or so, so it reads into a 256-byte buffer,
// growing it only for a larger file.
func (*FS) ReadFile(name string) ([]byte, error) {
	h, err := open(name, windows.GENERIC_READ, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	defer windows.CloseHandle(h)
	data, err := readAll(h, make([]byte, 0, 256))
	if err != nil {
		return nil, pathError("read", name, err)
	}
	return data, nil
}

// readAll appends to buf what remains to be read from h, up to end of file.
func readAll(h windows.Handle, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		free := buf[len(buf):cap(buf)]
		if len(free) > 1<<30 {
			free = free[:1<<30]
		}
		var n uint32
		err := windows.ReadFile(h, free, &n, nil)
		if err == windows.ERROR_HANDLE_EOF || err == windows.ERROR_BROKEN_PIPE {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+int(n)]
	}
}
