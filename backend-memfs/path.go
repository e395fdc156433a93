package memfs

import (
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// split cleans name with filepath.Clean, converts it to slashes with
// filepath.ToSlash and returns its components from the root. The FS has no
// working directory: a relative name is resolved from the root, so "a/b",
// "/a/b" and "./a/../a/b" all name /a/b, and ".." at the root stays there.
// On Windows a volume name is an ordinary first component: C:\locks\x names
// the entry x in the directory "C:/locks", which MkdirAll creates like any
// other.
func split(name string) []string {
	p := filepath.ToSlash(filepath.Clean(name))
	var parts []string
	for part := range strings.SplitSeq(p, "/") {
		if part == "" || part == "." || part == ".." {
			// filepath.Clean leaves ".." only at the start of a relative
			// name, where it refers to the root itself.
			continue
		}
		parts = append(parts, part)
	}
	return parts
}

// baseName is the name fs.FileInfo reports for name: its last component, or
// "/" for the root.
func baseName(name string) string {
	parts := split(name)
	if len(parts) == 0 {
		return "/"
	}
	return parts[len(parts)-1]
}

// maxSymlinks bounds the symbolic links followed in resolving one name, as
// on Linux; one more makes the lookup fail with ELOOP, which also ends a
// loop of links.
const maxSymlinks = 40

// A walk is where a name leads: the directories from the root to the one
// that holds the name's final entry, the entry's name and the entry.
type walk struct {
	dirs []*inode // from the root; the last holds the entry
	base string   // the entry's name; "" if the name is a directory of dirs itself (the root, say)
	n    *inode   // the entry; nil if there is none
}

// dir returns the directory that holds the entry.
func (w walk) dir() *inode { return w.dirs[len(w.dirs)-1] }

// walk resolves name from the root, following the symbolic links it meets
// in the directories on the way, and a symbolic link that is the final
// entry if follow is true. A final entry that does not exist is not an
// error (w.n is nil); a missing directory on the way is ENOENT, a file on
// the way ENOTDIR, too many links ELOOP. A link's target is resolved from
// the directory that holds the link, or from the root if it is absolute.
// fsys.mu must be held.
func (fsys *FS) walk(name string, follow bool) (walk, error) {
	if name == "" {
		return walk{}, syscall.ENOENT
	}
	parts := split(name)
	dirs := []*inode{fsys.root}
	links := 0
	for len(parts) > 0 {
		part := parts[0]
		parts = parts[1:]
		switch part {
		case "", ".": // only from a link's target: split has cleaned name
			continue
		case "..":
			if len(dirs) > 1 {
				dirs = dirs[:len(dirs)-1]
			}
			continue
		}
		dir := dirs[len(dirs)-1]
		child := dir.entries[part]
		last := len(parts) == 0
		switch {
		case child == nil && last:
			return walk{dirs: dirs, base: part}, nil
		case child == nil:
			return walk{}, syscall.ENOENT
		case child.isSymlink() && (follow || !last):
			if links++; links > maxSymlinks {
				return walk{}, syscall.ELOOP
			}
			target := filepath.ToSlash(child.target)
			if strings.HasPrefix(target, "/") || filepath.IsAbs(child.target) {
				dirs = dirs[:1]
			}
			parts = append(strings.Split(target, "/"), parts...)
		case last:
			return walk{dirs: dirs, base: part, n: child}, nil
		case !child.isDir():
			return walk{}, syscall.ENOTDIR
		default:
			dirs = append(dirs, child)
		}
	}
	// The name ends at a directory of dirs: the root, or where a link's
	// target such as ".." or "/" leads.
	return walk{dirs: dirs, n: dirs[len(dirs)-1]}, nil
}

// lookup returns the inode that name refers to, following symbolic links.
// fsys.mu must be held.
func (fsys *FS) lookup(name string) (*inode, error) {
	return fsys.lookupFollow(name, true)
}

// lookupFollow returns the inode that name refers to, following a final
// symbolic link only if follow is true. fsys.mu must be held.
func (fsys *FS) lookupFollow(name string, follow bool) (*inode, error) {
	w, err := fsys.walk(name, follow)
	if err != nil {
		return nil, err
	}
	if w.n == nil {
		return nil, syscall.ENOENT
	}
	return w.n, nil
}

// lookupParent returns the directory that holds name's entry and the entry's
// name, without following a final symbolic link. It fails if the directory
// does not exist. For the root itself, dir is the root and base is "".
// fsys.mu must be held.
func (fsys *FS) lookupParent(name string) (dir *inode, base string, err error) {
	w, err := fsys.walk(name, false)
	if err != nil {
		return nil, "", err
	}
	return w.dir(), w.base, nil
}

// within reports whether name is dir itself or lies below it. fsys.mu must
// be held.
func (fsys *FS) within(name string, dir *inode) bool {
	w, err := fsys.walk(name, false)
	if err != nil {
		return false
	}
	return w.n == dir || slices.Contains(w.dirs, dir)
}
