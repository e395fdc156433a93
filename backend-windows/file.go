//go:build windows

package winfs

import (
	"io"
	"io/fs"
	"slices"
	"unsafe"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/windows"
)

// WriteFile creates the file name and writes data to it, like
// os.WriteFile with O_EXCL: CREATE_NEW fails with ERROR_FILE_EXISTS
// (errors.Is(err, fs.ErrExist)) if anything is at name, and
// FILE_FLAG_OPEN_REPARSE_POINT keeps it from following a symbolic link or
// junction there, so a link put at a claim name cannot redirect the write.
// As package os does on Windows, perm only decides whether the file is
// read-only (no owner write bit); the rest is ignored. An error from
// CloseHandle is reported: on SMB, close is where the client may learn
// that a cached write failed.
func (*FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	attrs := uint32(windows.FILE_ATTRIBUTE_NORMAL)
	if perm&0o200 == 0 {
		attrs = windows.FILE_ATTRIBUTE_READONLY
	}
	h, err := open(name, windows.GENERIC_WRITE, windows.CREATE_NEW, attrs|windows.FILE_FLAG_OPEN_REPARSE_POINT)
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

// ReadFile returns the contents of the regular file name, like
// os.ReadFile, within the limits locker.FS sets: it does not follow a
// symbolic link or junction at name, never blocks, and reads at most
// locker.MaxClaimLen+1 bytes.
//
// It opens name with FILE_FLAG_OPEN_REPARSE_POINT (the link itself, not
// its target) and FILE_FLAG_BACKUP_SEMANTICS (so that a directory opens
// and can be recognised), and judges the handle before reading: anything
// but a disk file (a device such as NUL or COM1, a pipe), a directory, or
// a reparse point that names another file (a symbolic link, a junction) or
// is a Unix-domain socket fails with a *locker.NotRegularError. Other
// reparse points (deduplicated or cloud files) are regular files behind a
// filter: they are opened again through the filter and read. A file longer
// than locker.MaxClaimLen fails with locker.ErrTooLong.
func (*FS) ReadFile(name string) ([]byte, error) {
	const flags = windows.FILE_FLAG_OPEN_REPARSE_POINT | windows.FILE_FLAG_BACKUP_SEMANTICS
	h, err := open(name, windows.GENERIC_READ, windows.OPEN_EXISTING, flags)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	defer func() { windows.CloseHandle(h) }()
	d, reparse, err := regularFile(h)
	if err == nil && reparse {
		windows.CloseHandle(h)
		h, err = open(name, windows.GENERIC_READ, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS)
		if err != nil {
			h = windows.InvalidHandle
			return nil, pathError("open", name, err)
		}
		d, _, err = regularFile(h)
	}
	if err != nil {
		return nil, pathError("open", name, err)
	}
	size := int64(d.FileSizeHigh)<<32 | int64(d.FileSizeLow)
	if size > locker.MaxClaimLen {
		return nil, pathError("read", name, locker.ErrTooLong)
	}
	data, err := readAtMost(h, make([]byte, 0, max(256, size+1)), locker.MaxClaimLen)
	if err != nil {
		return nil, pathError("read", name, err)
	}
	return data, nil
}

// ioReparseTagAFUnix is the reparse tag of a Unix-domain socket's file.
const ioReparseTagAFUnix = 0x80000023

// regularFile checks that h is a regular disk file and returns its
// information. reparse reports a reparse point that is neither a link nor
// a socket, to be opened again without FILE_FLAG_OPEN_REPARSE_POINT.
func regularFile(h windows.Handle) (d windows.ByHandleFileInformation, reparse bool, err error) {
	switch t, err := windows.GetFileType(h); {
	case err != nil:
		return d, false, err
	case t == windows.FILE_TYPE_CHAR:
		return d, false, &locker.NotRegularError{Type: fs.ModeDevice | fs.ModeCharDevice}
	case t == windows.FILE_TYPE_PIPE:
		return d, false, &locker.NotRegularError{Type: fs.ModeNamedPipe}
	case t != windows.FILE_TYPE_DISK:
		return d, false, &locker.NotRegularError{Type: fs.ModeIrregular}
	}
	if err := windows.GetFileInformationByHandle(h, &d); err != nil {
		return d, false, err
	}
	if d.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		var tag struct{ FileAttributes, ReparseTag uint32 } // FILE_ATTRIBUTE_TAG_INFO
		if err := windows.GetFileInformationByHandleEx(h, windows.FileAttributeTagInfo, (*byte)(unsafe.Pointer(&tag)), uint32(unsafe.Sizeof(tag))); err != nil {
			return d, false, err
		}
		switch {
		case tag.ReparseTag&0x20000000 != 0: // a name surrogate: a link to another name
			return d, false, &locker.NotRegularError{Type: fs.ModeSymlink}
		case tag.ReparseTag == ioReparseTagAFUnix:
			return d, false, &locker.NotRegularError{Type: fs.ModeSocket}
		}
		return d, true, nil
	}
	if d.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0 {
		return d, false, &locker.NotRegularError{Type: fs.ModeDir}
	}
	return d, false, nil
}

// readAtMost appends to buf what remains to be read from h, up to end of
// file, or fails with locker.ErrTooLong once buf would hold more than limit
// bytes: a file may grow while it is read.
func readAtMost(h windows.Handle, buf []byte, limit int) ([]byte, error) {
	for len(buf) <= limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(len(buf), 256))
		}
		free := buf[len(buf):min(cap(buf), limit+1)]
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
	return nil, locker.ErrTooLong
}
