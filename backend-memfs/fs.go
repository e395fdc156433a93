package memfs

import (
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/vclock"
	"github.com/spf13/afero"
)

var _ afero.Fs = (*FS)(nil)

// FS is an in-memory filesystem with real hard links: the file server that
// the simulated hosts of a test share. Names map to inodes, and every name of
// an inode shares its contents, mode, times and link count, as on a POSIX
// filesystem.
//
// FS implements afero.Fs, so a test can create directories and read or list
// lock files with afero's helpers. The lock algorithm itself reaches the
// filesystem through a Host, which implements locker.FS.
//
// Every operation is atomic with respect to every other, whichever goroutine
// makes it. Writes (creating, writing and truncating a file, and changing a
// directory's entries) stamp the modification time from the FS's Clock, the
// server's time; reads do not change the access time.
//
// Names are cleaned with filepath.Clean and converted with filepath.ToSlash,
// so Unix-style and Windows-style absolute names both work. Symbolic links
// (see SymlinkIfPossible) are followed where POSIX follows them, after the
// name has been cleaned. There is no
// working directory: relative names are resolved from the root "/", which
// always exists. On Windows a volume name such as "C:" is a directory below
// the root, created with MkdirAll like any other. The directory that holds a
// name must exist to create, link or rename to that name.
//
// Permissions are those of an ordinary user who owns every file: reading a
// file needs its owner read bit, writing it the owner write bit, and adding,
// removing or renaming entries of a directory needs the directory's owner
// write bit, so a directory chmod'ed to 0o555 is unwritable. The search bit
// is not checked and there is no umask.
//
// Errors are *os.PathError or *os.LinkError holding a syscall.Errno, as the
// os package returns, so errors.Is(err, fs.ErrNotExist) and its kin work.
type FS struct {
	clock *vclock.Clock

	mu      sync.Mutex
	root    *inode
	lastIno uint64
	hosts   map[string]*Host
	watches map[*inode]map[chan struct{}]struct{} // see Host.Watch

	noLinks bool          // see WithoutLinkCounts
	gran    time.Duration // see WithTimeGranularity
}

// An Option configures an FS in New.
type Option func(*FS)

// WithClock makes the FS use c as the server's clock, and its hosts' clocks
// views of it. A nil c leaves the default.
func WithClock(c *vclock.Clock) Option {
	return func(fsys *FS) {
		if c != nil {
			fsys.clock = c
		}
	}
}

// WithoutLinkCounts makes every file show one link to the lock (Host.Stat),
// as sshfs and some other network filesystems report them: a lock there
// decides ownership by the claim name alone. The links are still there
// (Link, Remove and the FS's own afero view keep true counts).
func WithoutLinkCounts() Option {
	return func(fsys *FS) { fsys.noLinks = true }
}

// WithTimeGranularity makes the lock (Host.Stat) see modification times
// truncated to d, as a filesystem that keeps whole seconds (d =
// time.Second: sshfs, some NFS servers) shows them.
func WithTimeGranularity(d time.Duration) Option {
	return func(fsys *FS) { fsys.gran = d }
}

// New returns an empty FS holding only the root directory, mode 0o755. Its
// clock, unless WithClock sets another, is a new manual vclock.Clock that starts at
// 2026-01-01T00:00:00Z.
func New(opts ...Option) *FS {
	fsys := &FS{hosts: make(map[string]*Host)}
	for _, opt := range opts {
		opt(fsys)
	}
	if fsys.clock == nil {
		fsys.clock = vclock.New(time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC))
	}
	fsys.root = fsys.newInode(fs.ModeDir|0o755, fsys.clock.Now())
	return fsys
}

// Clock returns the server's clock, which stamps modification times.
func (fsys *FS) Clock() *vclock.Clock { return fsys.clock }

// Name returns "memfs".
func (fsys *FS) Name() string { return "memfs" }

// newInode returns a new inode with a fresh number. fsys.mu must be held
// (or fsys not yet shared).
func (fsys *FS) newInode(mode fs.FileMode, now time.Time) *inode {
	fsys.lastIno++
	n := &inode{ino: fsys.lastIno, mode: mode, atime: now, mtime: now}
	if mode.IsDir() {
		n.entries = make(map[string]*inode)
	}
	return n
}

// Create creates or truncates the named file, like os.Create: the file is
// opened for reading and writing, and created with mode 0o666.
func (fsys *FS) Create(name string) (afero.File, error) {
	return fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Open opens the named file or directory for reading, like os.Open.
func (fsys *FS) Open(name string) (afero.File, error) {
	return fsys.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens the named file like os.OpenFile, honouring os.O_RDONLY,
// O_WRONLY, O_RDWR, O_APPEND, O_CREATE, O_EXCL and O_TRUNC. A directory can
// be opened only for reading. A symbolic link is followed, except by
// O_CREATE|O_EXCL, which fails with EEXIST if anything is at name, as
// POSIX has it; creating through a dangling link creates its target. The
// FS has no pipe ends or drivers: opening a FIFO, socket or device fails
// with ENXIO.
func (fsys *FS) OpenFile(name string, flag int, perm fs.FileMode) (afero.File, error) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.openLocked(name, flag, perm)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return &file{fsys: fsys, name: name, inode: n, flag: flag}, nil
}

func (fsys *FS) openLocked(name string, flag int, perm fs.FileMode) (*inode, error) {
	write := flag&(os.O_WRONLY|os.O_RDWR) != 0
	read := flag&os.O_WRONLY == 0
	excl := flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL
	w, err := fsys.walk(name, !excl)
	if err != nil {
		return nil, err
	}
	dir, base, n := w.dir(), w.base, w.n
	now := fsys.clock.Now()
	if n == nil {
		if flag&os.O_CREATE == 0 {
			return nil, syscall.ENOENT
		}
		if !dir.writable() {
			return nil, syscall.EACCES
		}
		n = fsys.newInode(perm&fs.ModePerm, now)
		n.nlink = 1
		dir.entries[base] = n
		fsys.dirChanged(dir, now)
		return n, nil
	}
	if excl {
		return nil, syscall.EEXIST
	}
	if !n.isDir() && !n.isRegular() {
		return nil, syscall.ENXIO
	}
	if n.isDir() && write {
		return nil, syscall.EISDIR
	}
	if (write && !n.writable()) || (read && !n.readable()) {
		return nil, syscall.EACCES
	}
	if write && flag&os.O_TRUNC != 0 {
		n.truncate(0, now)
	}
	return n, nil
}

// Mkdir creates the directory name with permissions perm, like os.Mkdir.
func (fsys *FS) Mkdir(name string, perm fs.FileMode) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	dir, base, err := fsys.lookupParent(name)
	if err == nil {
		err = fsys.mkdirLocked(dir, base, perm)
	}
	if err != nil {
		return &os.PathError{Op: "mkdir", Path: name, Err: err}
	}
	return nil
}

// MkdirAll creates the directory name and any missing parents with
// permissions perm, like os.MkdirAll. It does nothing if name is already a
// directory.
func (fsys *FS) MkdirAll(name string, perm fs.FileMode) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if name == "" {
		return &os.PathError{Op: "mkdir", Path: name, Err: syscall.ENOENT}
	}
	parts := split(name)
	for i := range parts {
		w, err := fsys.walk("/"+strings.Join(parts[:i+1], "/"), true)
		if err == nil && w.n == nil {
			err = fsys.mkdirLocked(w.dir(), w.base, perm)
		} else if err == nil && !w.n.isDir() {
			err = syscall.ENOTDIR
		}
		if err != nil {
			return &os.PathError{Op: "mkdir", Path: name, Err: err}
		}
	}
	return nil
}

func (fsys *FS) mkdirLocked(dir *inode, base string, perm fs.FileMode) error {
	if base == "" || dir.entries[base] != nil {
		return syscall.EEXIST
	}
	if !dir.writable() {
		return syscall.EACCES
	}
	now := fsys.clock.Now()
	dir.entries[base] = fsys.newInode(fs.ModeDir|perm&fs.ModePerm, now)
	fsys.dirChanged(dir, now)
	return nil
}

// Remove removes the named file or empty directory, like os.Remove. Other
// names of a removed file keep its contents; its link count drops by one.
func (fsys *FS) Remove(name string) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if err := fsys.removeLocked(name); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// removeFile is Host.Remove: Remove, but never of a directory.
func (fsys *FS) removeFile(name string) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if n, err := fsys.lookupFollow(name, false); err == nil && n.isDir() {
		return &os.PathError{Op: "remove", Path: name, Err: syscall.EISDIR}
	}
	if err := fsys.removeLocked(name); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

func (fsys *FS) removeLocked(name string) error {
	dir, base, err := fsys.lookupParent(name)
	if err != nil {
		return err
	}
	if base == "" {
		return syscall.EBUSY
	}
	n, ok := dir.entries[base]
	if !ok {
		return syscall.ENOENT
	}
	if !dir.writable() {
		return syscall.EACCES
	}
	if n.isDir() && len(n.entries) > 0 {
		return syscall.ENOTEMPTY
	}
	fsys.unlinkLocked(dir, base)
	return nil
}

// unlinkLocked removes the entry base from dir.
func (fsys *FS) unlinkLocked(dir *inode, base string) {
	n := dir.entries[base]
	delete(dir.entries, base)
	if !n.isDir() {
		n.nlink--
	} else {
		fsys.notifyLocked(n) // the directory itself is gone
	}
	fsys.dirChanged(dir, fsys.clock.Now())
}

// RemoveAll removes name and everything below it, like os.RemoveAll. It
// returns nil if name does not exist. Unlike os.RemoveAll it is atomic: if
// some entry cannot be removed (its directory is unwritable), nothing is
// removed. The root cannot be removed.
func (fsys *FS) RemoveAll(name string) error {
	if name == "" {
		return nil // as os.RemoveAll
	}
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	dir, base, err := fsys.lookupParent(name)
	if err != nil {
		if err == syscall.ENOENT {
			return nil
		}
		return &os.PathError{Op: "unlinkat", Path: name, Err: err}
	}
	if base == "" {
		return &os.PathError{Op: "unlinkat", Path: name, Err: syscall.EBUSY}
	}
	n, ok := dir.entries[base]
	if !ok {
		return nil
	}
	if !dir.writable() || !removable(n) {
		return &os.PathError{Op: "unlinkat", Path: name, Err: syscall.EACCES}
	}
	fsys.removeTree(n)
	fsys.unlinkLocked(dir, base)
	return nil
}

// removable reports whether everything below n can be removed.
func removable(n *inode) bool {
	if !n.isDir() || len(n.entries) == 0 {
		return true
	}
	if !n.writable() {
		return false
	}
	for _, child := range n.entries {
		if !removable(child) {
			return false
		}
	}
	return true
}

// removeTree removes everything below the directory n.
func (fsys *FS) removeTree(n *inode) {
	if !n.isDir() {
		return
	}
	for base, child := range n.entries {
		fsys.removeTree(child)
		fsys.unlinkLocked(n, base)
	}
}

// Rename renames oldname to newname, like os.Rename. If newname is a file it
// is replaced atomically, and the replaced file loses a link; an empty
// directory may replace an empty directory. As POSIX requires, if oldname and
// newname are links to the same file, Rename does nothing and reports
// success, leaving both names in place.
func (fsys *FS) Rename(oldname, newname string) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if err := fsys.renameLocked(oldname, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

func (fsys *FS) renameLocked(oldname, newname string) error {
	odir, obase, err := fsys.lookupParent(oldname)
	if err != nil {
		return err
	}
	if obase == "" {
		return syscall.EBUSY
	}
	n, ok := odir.entries[obase]
	if !ok {
		return syscall.ENOENT
	}
	ndir, nbase, err := fsys.lookupParent(newname)
	if err != nil {
		return err
	}
	if nbase == "" {
		return syscall.EBUSY
	}
	target := ndir.entries[nbase]
	if target == n {
		return nil
	}
	if !odir.writable() || !ndir.writable() {
		return syscall.EACCES
	}
	if n.isDir() {
		if target != nil && !target.isDir() {
			return syscall.ENOTDIR
		}
		if target != nil && len(target.entries) > 0 {
			return syscall.ENOTEMPTY
		}
		if fsys.within(newname, n) {
			return syscall.EINVAL
		}
	} else if target != nil && target.isDir() {
		return syscall.EISDIR
	}
	if target != nil {
		fsys.unlinkLocked(ndir, nbase)
	}
	delete(odir.entries, obase)
	ndir.entries[nbase] = n
	now := fsys.clock.Now()
	fsys.dirChanged(odir, now)
	if ndir != odir {
		fsys.dirChanged(ndir, now)
	}
	if n.isDir() {
		fsys.notifyLocked(n) // the directory itself has moved
	}
	return nil
}

// Link makes newname a hard link to the file oldname, like os.Link. It
// fails with syscall.EEXIST if newname exists, which it never replaces, with
// syscall.ENOENT if oldname does not exist, and with syscall.EPERM if oldname
// is a directory. A symbolic link at oldname is linked itself, as link(2)
// does on Linux.
func (fsys *FS) Link(oldname, newname string) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if err := fsys.linkLocked(oldname, newname); err != nil {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: err}
	}
	return nil
}

func (fsys *FS) linkLocked(oldname, newname string) error {
	n, err := fsys.lookupFollow(oldname, false)
	if err != nil {
		return err
	}
	dir, base, err := fsys.lookupParent(newname)
	if err != nil {
		return err
	}
	if base == "" || dir.entries[base] != nil {
		return syscall.EEXIST
	}
	if !dir.writable() {
		return syscall.EACCES
	}
	if n.isDir() {
		return syscall.EPERM
	}
	dir.entries[base] = n
	n.nlink++
	fsys.dirChanged(dir, fsys.clock.Now())
	return nil
}

// Stat describes the named file, like os.Stat. Its Sys method returns a
// *Stat holding the inode number and link count.
func (fsys *FS) Stat(name string) (fs.FileInfo, error) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookup(name)
	if err != nil {
		return nil, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	return n.info(baseName(name)), nil
}

// Chmod changes the permission bits (and the setuid, setgid and sticky bits)
// of the named file, like os.Chmod.
func (fsys *FS) Chmod(name string, mode fs.FileMode) error {
	const mask = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookup(name)
	if err != nil {
		return &os.PathError{Op: "chmod", Path: name, Err: err}
	}
	n.mode = n.mode&^mask | mode&mask
	return nil
}

// Chown records the numeric owner of the named file, like os.Chown; an id
// of -1 leaves that id unchanged. Ownership has no effect on permissions.
func (fsys *FS) Chown(name string, uid, gid int) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookup(name)
	if err != nil {
		return &os.PathError{Op: "chown", Path: name, Err: err}
	}
	if uid != -1 {
		n.uid = uid
	}
	if gid != -1 {
		n.gid = gid
	}
	return nil
}

// Chtimes sets the access and modification times of the named file, like
// os.Chtimes: a zero time.Time leaves that time unchanged. All names of the
// file see the new times. A symbolic link is followed.
func (fsys *FS) Chtimes(name string, atime, mtime time.Time) error {
	return fsys.chtimes(name, atime, mtime, true)
}

// chtimes is Chtimes, following a final symbolic link only if follow is
// true.
func (fsys *FS) chtimes(name string, atime, mtime time.Time, follow bool) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookupFollow(name, follow)
	if err != nil {
		return &os.PathError{Op: "chtimes", Path: name, Err: err}
	}
	if !atime.IsZero() {
		n.atime = atime
	}
	if !mtime.IsZero() {
		n.mtime = mtime
	}
	return nil
}

// WriteFile writes data to the named file, creating it with permissions perm
// if needed and truncating it otherwise, like os.WriteFile, but atomically.
func (fsys *FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.openLocked(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	n.writeAt(data, 0, fsys.clock.Now())
	return nil
}

// writeNew is Host.WriteFile: WriteFile with O_EXCL.
func (fsys *FS) writeNew(name string, data []byte, perm fs.FileMode) error {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.openLocked(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	n.writeAt(data, 0, fsys.clock.Now())
	return nil
}

// readClaim is Host.ReadFile: the contents of a regular file no longer than
// locker.MaxClaimLen, without following a symbolic link.
func (fsys *FS) readClaim(name string) ([]byte, error) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookupFollow(name, false)
	switch {
	case err != nil:
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	case !n.isRegular():
		return nil, &os.PathError{Op: "open", Path: name, Err: &locker.NotRegularError{Type: n.mode.Type()}}
	case !n.readable():
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	case len(n.data) > locker.MaxClaimLen:
		return nil, &os.PathError{Op: "read", Path: name, Err: locker.ErrTooLong}
	}
	return append([]byte{}, n.data...), nil
}

// ReadFile returns the contents of the named file, like os.ReadFile, but
// atomically.
func (fsys *FS) ReadFile(name string) ([]byte, error) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.openLocked(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	if n.isDir() {
		return nil, &os.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	return append([]byte{}, n.data...), nil
}
