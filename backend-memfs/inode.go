package memfs

import (
	"io/fs"
	"slices"
	"time"
)

// An inode is a file, directory, symbolic link, FIFO, socket or device,
// independent of its names. Every name
// linked to an inode shares its contents, mode, times and link count, which
// is what gives FS real hard-link semantics. All fields are guarded by the
// owning FS's mutex.
type inode struct {
	ino  uint64
	mode fs.FileMode // type bits and permissions
	data []byte      // contents of a regular file
	// target is what a symbolic link points to.
	target string
	atime  time.Time
	mtime  time.Time
	// nlink counts the directory entries that name anything but a
	// directory. A directory's count is derived from its entries instead
	// (see links).
	nlink    uint64
	uid, gid int
	entries  map[string]*inode // children of a directory; nil for a file
}

func (n *inode) isDir() bool     { return n.mode.IsDir() }
func (n *inode) isSymlink() bool { return n.mode&fs.ModeSymlink != 0 }
func (n *inode) isRegular() bool { return n.mode.IsRegular() }

// readable and writable report the owner's permission bits: FS behaves as
// an ordinary user who owns every file.
func (n *inode) readable() bool { return n.mode&0o400 != 0 }
func (n *inode) writable() bool { return n.mode&0o200 != 0 }

// links returns the inode's link count as a POSIX filesystem reports it. For
// a directory that is two (its entry in its parent and its own ".") plus one
// for each subdirectory's "..".
func (n *inode) links() uint64 {
	if !n.isDir() {
		return n.nlink
	}
	links := uint64(2)
	for _, child := range n.entries {
		if child.isDir() {
			links++
		}
	}
	return links
}

// size returns the file's length in bytes; for a symbolic link, the length
// of its target, as lstat(2) reports it; for a directory, its number of
// entries, which is as good as any other made-up number.
func (n *inode) size() int64 {
	switch {
	case n.isDir():
		return int64(len(n.entries))
	case n.isSymlink():
		return int64(len(n.target))
	}
	return int64(len(n.data))
}

// writeAt writes b at off, growing the file with zeros as needed, and stamps
// the modification time.
func (n *inode) writeAt(b []byte, off int64, now time.Time) {
	end := off + int64(len(b))
	n.resize(max(end, int64(len(n.data))))
	copy(n.data[off:], b)
	n.mtime = now
}

// truncate sets the file's length to size and stamps the modification time.
func (n *inode) truncate(size int64, now time.Time) {
	n.resize(size)
	n.mtime = now
}

// resize sets the length of data, zero-filling any growth: bytes left in the
// slice's capacity by an earlier truncation must not reappear.
func (n *inode) resize(size int64) {
	old := int64(len(n.data))
	if size <= old {
		n.data = n.data[:size]
		return
	}
	n.data = slices.Grow(n.data, int(size-old))[:size]
	clear(n.data[old:])
}

// info describes the inode under the given base name. The result is a
// snapshot: later changes to the inode do not show through it.
func (n *inode) info(name string) *fileInfo {
	return &fileInfo{
		name:  name,
		size:  n.size(),
		mode:  n.mode,
		mtime: n.mtime,
		sys: Stat{
			Ino:   n.ino,
			Nlink: n.links(),
			Uid:   n.uid,
			Gid:   n.gid,
			Atime: n.atime,
			Mtime: n.mtime,
		},
	}
}

// Stat is the system-dependent information about a file of an FS, like
// syscall.Stat_t. The Sys method of every os.FileInfo that FS and its files
// return gives a *Stat, so a test can read the link count:
//
//	fi, err := fsys.Stat(name)
//	...
//	links := fi.Sys().(*memfs.Stat).Nlink
type Stat struct {
	// Ino is the inode number, the same for every name of one file and
	// never reused within one FS.
	Ino uint64
	// Nlink is the number of hard links to the file.
	Nlink uint64
	// Uid and Gid are the owner set by Chown, zero by default.
	Uid, Gid int
	// Atime and Mtime are the access and modification times.
	Atime, Mtime time.Time
}

// fileInfo implements fs.FileInfo (os.FileInfo) for FS.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	sys   Stat
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }

// Sys returns a *Stat.
func (fi *fileInfo) Sys() any { return &fi.sys }
