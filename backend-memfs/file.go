package memfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"syscall"

	"github.com/spf13/afero"
)

var (
	_ afero.File     = (*file)(nil)
	_ fs.ReadDirFile = (*file)(nil)
)

// file is an open file or directory of an FS, the afero.File that Open,
// OpenFile and Create return. It refers to the inode, not the name, so it
// keeps working, as on POSIX, after the name is removed or renamed. Its
// state is guarded by the FS's mutex, so each call is atomic.
type file struct {
	fsys   *FS
	name   string // as given to OpenFile
	inode  *inode
	flag   int
	off    int64
	closed bool
	// dir is the sorted list of entry names that Readdir works through,
	// taken at its first call; dirOff is how many have been returned.
	dir    []string
	dirOff int
}

// Name returns the name the file was opened with.
func (f *file) Name() string { return f.name }

// check returns the error for op on f if f is closed or cannot do op.
// f.fsys.mu must be held.
func (f *file) check(op string, read, write bool) error {
	var err error
	switch {
	case f.closed:
		err = os.ErrClosed
	case (read || write) && f.inode.isDir():
		err = syscall.EISDIR
	case read && f.flag&os.O_WRONLY != 0, write && f.flag&(os.O_WRONLY|os.O_RDWR) == 0:
		err = syscall.EBADF
	default:
		return nil
	}
	return &os.PathError{Op: op, Path: f.name, Err: err}
}

// Close closes the file. Closing it again returns an error.
func (f *file) Close() error {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	if err := f.check("close", false, false); err != nil {
		return err
	}
	f.closed = true
	return nil
}

// Read reads from the current offset, like os.File.Read.
func (f *file) Read(b []byte) (int, error) {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	if err := f.check("read", true, false); err != nil {
		return 0, err
	}
	n, err := f.readAt(b, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// ReadAt reads from offset off, like os.File.ReadAt: it returns io.EOF if
// the file ends before b is full.
func (f *file) ReadAt(b []byte, off int64) (int, error) {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	if err := f.check("read", true, false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &os.PathError{Op: "readat", Path: f.name, Err: errors.New("negative offset")}
	}
	return f.readAt(b, off)
}

func (f *file) readAt(b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	data := f.inode.data
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(b, data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// Seek sets the offset for the next Read or Write, like os.File.Seek. On a
// directory, Seek(0, io.SeekStart) rewinds Readdir.
func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	if err := f.check("seek", false, false); err != nil {
		return 0, err
	}
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = f.off + offset
	case io.SeekEnd:
		pos = f.inode.size() + offset
	default:
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: syscall.EINVAL}
	}
	if pos < 0 {
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: syscall.EINVAL}
	}
	f.off = pos
	if f.inode.isDir() && pos == 0 {
		f.dir, f.dirOff = nil, 0
	}
	return pos, nil
}

// Write writes at the current offset, or at the end of the file if it was
// opened with os.O_APPEND, like os.File.Write, and stamps the modification
// time with the server's clock.
func (f *file) Write(b []byte) (int, error) {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	if err := f.check("write", false, true); err != nil {
		return 0, err
	}
	if f.flag&os.O_APPEND != 0 {
		f.off = f.inode.size()
	}
	f.inode.writeAt(b, f.off, f.fsys.clock.Now())
	f.off += int64(len(b))
	return len(b), nil
}

// WriteAt writes at offset off, like os.File.WriteAt, which refuses a file
// opened with os.O_APPEND.
func (f *file) WriteAt(b []byte, off int64) (int, error) {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	if err := f.check("write", false, true); err != nil {
		return 0, err
	}
	if f.flag&os.O_APPEND != 0 {
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errors.New("invalid use of WriteAt on file opened with O_APPEND")}
	}
	if off < 0 {
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errors.New("negative offset")}
	}
	f.inode.writeAt(b, off, f.fsys.clock.Now())
	return len(b), nil
}

// WriteString is like Write with the bytes of s.
func (f *file) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

// Truncate changes the size of the file, like os.File.Truncate, and stamps
// the modification time.
func (f *file) Truncate(size int64) error {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	if err := f.check("truncate", false, true); err != nil {
		return err
	}
	if size < 0 {
		return &os.PathError{Op: "truncate", Path: f.name, Err: syscall.EINVAL}
	}
	f.inode.truncate(size, f.fsys.clock.Now())
	return nil
}

// Sync does nothing: an FS has no cache to flush.
func (f *file) Sync() error {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	return f.check("sync", false, false)
}

// Stat describes the open file, even if its name has since been removed.
func (f *file) Stat() (fs.FileInfo, error) {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	if err := f.check("stat", false, false); err != nil {
		return nil, err
	}
	return f.inode.info(baseName(f.name)), nil
}

// Readdir returns the next count entries of the directory in name order,
// like os.File.Readdir: if count > 0 it returns at most count entries and
// io.EOF at the end; otherwise it returns all remaining entries and a nil
// error. The list of names is taken at the first call; entries removed
// since then are skipped.
func (f *file) Readdir(count int) ([]fs.FileInfo, error) {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	names, err := f.readdirnames(count)
	if err != nil {
		return nil, err
	}
	infos := make([]fs.FileInfo, 0, len(names))
	for _, name := range names {
		infos = append(infos, f.inode.entries[name].info(name))
	}
	return infos, nil
}

// Readdirnames is like Readdir but returns only the names.
func (f *file) Readdirnames(count int) ([]string, error) {
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	return f.readdirnames(count)
}

// ReadDir is like Readdir but returns fs.DirEntry values, which makes the
// file an fs.ReadDirFile for afero.NewIOFS.
func (f *file) ReadDir(count int) ([]fs.DirEntry, error) {
	infos, err := f.Readdir(count)
	entries := make([]fs.DirEntry, len(infos))
	for i, fi := range infos {
		entries[i] = fs.FileInfoToDirEntry(fi)
	}
	return entries, err
}

// readdirnames returns the names of the next count entries that still
// exist. f.fsys.mu must be held.
func (f *file) readdirnames(count int) ([]string, error) {
	if err := f.check("readdirent", false, false); err != nil {
		return nil, err
	}
	if !f.inode.isDir() {
		return nil, &os.PathError{Op: "readdirent", Path: f.name, Err: syscall.ENOTDIR}
	}
	if f.dir == nil {
		f.dir = make([]string, 0, len(f.inode.entries))
		for name := range f.inode.entries {
			f.dir = append(f.dir, name)
		}
		slices.Sort(f.dir)
	}
	names := []string{}
	for f.dirOff < len(f.dir) && (count <= 0 || len(names) < count) {
		name := f.dir[f.dirOff]
		f.dirOff++
		if _, ok := f.inode.entries[name]; ok {
			names = append(names, name)
		}
	}
	if count > 0 && len(names) == 0 {
		return nil, io.EOF
	}
	return names, nil
}
