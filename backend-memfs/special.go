package memfs

import (
	"io/fs"
	"os"
	"syscall"

	"github.com/spf13/afero"
)

// Symbolic links, FIFOs, sockets and devices: objects that no lock makes,
// which a test puts at a lock's names to check that the lock refuses them
// (see locker.FS and the conformance suite's foreign objects). They are
// modelled as far as a lock can tell them apart: a symbolic link is followed
// by the FS's names as on POSIX, and the others can be made, listed, stated,
// linked, renamed and removed, but not opened (see OpenFile).

var _ afero.Symlinker = (*FS)(nil)

// SymlinkIfPossible makes newname a symbolic link to oldname, like
// os.Symlink; it implements afero.Linker. oldname is stored as given and
// resolved when the link is followed: from the link's directory if it is
// relative, from the root if it is absolute. It fails with syscall.EEXIST
// if newname exists, whatever it is, and with syscall.ENOENT if oldname is
// empty.
func (fsys *FS) SymlinkIfPossible(oldname, newname string) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	var err error = syscall.ENOENT
	if oldname != "" {
		err = fsys.makeLocked(newname, fs.ModeSymlink|0o777, oldname)
	}
	if err != nil {
		return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: err}
	}
	return nil
}

// ReadlinkIfPossible returns the target of the symbolic link name, like
// os.Readlink; it implements afero.LinkReader. It fails with
// syscall.EINVAL if name is not a symbolic link.
func (fsys *FS) ReadlinkIfPossible(name string) (string, error) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookupFollow(name, false)
	if err == nil && !n.isSymlink() {
		err = syscall.EINVAL
	}
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: name, Err: err}
	}
	return n.target, nil
}

// LstatIfPossible describes name like os.Lstat: a symbolic link is described
// itself, not followed. It implements afero.Lstater; the boolean is always
// true.
func (fsys *FS) LstatIfPossible(name string) (fs.FileInfo, bool, error) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookupFollow(name, false)
	if err != nil {
		return nil, true, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	return n.info(baseName(name)), true, nil
}

// Mknod makes at name a FIFO, a socket or a device, as mknod(2) does: the
// type bits of mode must be fs.ModeNamedPipe, fs.ModeSocket, fs.ModeDevice
// (a block device) or fs.ModeDevice|fs.ModeCharDevice (a character device),
// or it fails with syscall.EINVAL. It fails with syscall.EEXIST if name
// exists. The object has no contents and cannot be opened.
func (fsys *FS) Mknod(name string, mode fs.FileMode) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	var err error
	switch mode.Type() {
	case fs.ModeNamedPipe, fs.ModeSocket, fs.ModeDevice, fs.ModeDevice | fs.ModeCharDevice:
		err = fsys.makeLocked(name, mode&(fs.ModeType|fs.ModePerm), "")
	default:
		err = syscall.EINVAL
	}
	if err != nil {
		return &os.PathError{Op: "mknod", Path: name, Err: err}
	}
	return nil
}

// makeLocked makes a new inode of mode at name, which must not exist.
// fsys.mu must be held.
func (fsys *FS) makeLocked(name string, mode fs.FileMode, target string) error {
	dir, base, err := fsys.lookupParent(name)
	if err != nil {
		return err
	}
	if base == "" || dir.entries[base] != nil {
		return syscall.EEXIST
	}
	if !dir.writable() {
		return syscall.EACCES
	}
	now := fsys.clock.Now()
	n := fsys.newInode(mode, now)
	n.target = target
	n.nlink = 1
	dir.entries[base] = n
	fsys.dirChanged(dir, now)
	return nil
}
