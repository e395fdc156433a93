package memfs

import (
	"path/filepath"
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

// lookup returns the inode that name refers to. fsys.mu must be held.
func (fsys *FS) lookup(name string) (*inode, error) {
	if name == "" {
		return nil, syscall.ENOENT
	}
	n := fsys.root
	for _, part := range split(name) {
		if !n.isDir() {
			return nil, syscall.ENOTDIR
		}
		child, ok := n.entries[part]
		if !ok {
			return nil, syscall.ENOENT
		}
		n = child
	}
	return n, nil
}

// lookupParent returns the directory that holds name's entry and the entry's
// name. It fails if the directory does not exist. For the root itself, dir is
// the root and base is "". fsys.mu must be held.
func (fsys *FS) lookupParent(name string) (dir *inode, base string, err error) {
	if name == "" {
		return nil, "", syscall.ENOENT
	}
	parts := split(name)
	if len(parts) == 0 {
		return fsys.root, "", nil
	}
	dir = fsys.root
	for _, part := range parts[:len(parts)-1] {
		child, ok := dir.entries[part]
		if !ok {
			return nil, "", syscall.ENOENT
		}
		if !child.isDir() {
			return nil, "", syscall.ENOTDIR
		}
		dir = child
	}
	return dir, parts[len(parts)-1], nil
}

// within reports whether name is dir itself or lies below it. fsys.mu must
// be held.
func (fsys *FS) within(name string, dir *inode) bool {
	n := fsys.root
	if n == dir {
		return true
	}
	for _, part := range split(name) {
		child, ok := n.entries[part]
		if !ok {
			return false
		}
		if child == dir {
			return true
		}
		n = child
	}
	return false
}
