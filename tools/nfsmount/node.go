//go:build linux

package main

import (
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

// A node is a file the kernel knows, and this client's caches of it: its
// attributes (the attribute cache), for a directory its names (the lookup
// cache), and the access each user was granted.
type node struct {
	id      uint64
	fh      nfs3.FH
	key     string // string(fh)
	lookups uint64 // guarded by nfsFS.mu

	mu        sync.Mutex
	attr      nfs3.Attr
	haveAttr  bool
	attrAt    time.Time     // when attr came from the server
	attrTimeo time.Duration // how long attr stays valid, between acXXXmin and acXXXmax
	// dents caches a directory's names: a handle, or nil for a name that
	// does not exist. It is valid for the directory's change signature
	// dentsSig; a change by another client empties it.
	dents    map[string]nfs3.FH
	dentsSig sig
	// told says until when the kernel may use each name of a directory
	// without asking: a lookup of a name before then was forced by the
	// kernel (O_EXCL, a rename target, a retry after ESTALE), where the
	// Linux client does not trust its cache either.
	told    map[string]time.Time
	access  map[uint32]uint32 // granted ACCESS bits by uid, valid with attr
	opens   int               // open handles here
	openSig sig               // the file's signature when last opened
	sillies []sillyName       // names this file was silly-renamed to
}

// sig is what tells that a file changed: its mtime, ctime and size.
type sig struct {
	mtime, ctime nfs3.Time
	size         uint64
}

func sigOf(a nfs3.Attr) sig { return sig{a.Mtime, a.Ctime, a.Size} }

// signature returns n's cached signature.
func (n *node) signature() sig {
	n.mu.Lock()
	defer n.mu.Unlock()
	return sigOf(n.attr)
}

func (o *options) acTimes(dir bool) (lo, hi time.Duration) {
	if dir {
		return o.acdirmin, o.acdirmax
	}
	return o.acregmin, o.acregmax
}

// update caches attributes just received. As in the Linux client, the
// time they stay valid starts at acXXXmin after the file changed and
// doubles (up to acXXXmax) each time a revalidation finds it unchanged.
// A directory that changed forgets its cached names.
func (n *node) update(o *options, a nfs3.Attr, revalidation bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	lo, hi := o.acTimes(a.Type == nfs3.TypeDir)
	changed := !n.haveAttr || sigOf(a) != sigOf(n.attr)
	switch {
	case changed:
		n.attrTimeo = lo
		n.access = nil
	case revalidation:
		n.attrTimeo = min(max(2*n.attrTimeo, lo), hi)
	}
	if a.Type == nfs3.TypeDir && n.dents != nil && sigOf(a) != n.dentsSig {
		n.dents = nil
	}
	n.attr, n.haveAttr, n.attrAt = a, true, time.Now()
}

// invalidate makes the next use of n's attributes ask the server.
func (n *node) invalidate() {
	n.mu.Lock()
	n.attrAt = time.Time{}
	n.mu.Unlock()
}

// cached returns n's attributes if they are still valid.
func (n *node) cached(o *options) (nfs3.Attr, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.attr, n.haveAttr && time.Since(n.attrAt) < n.attrTimeo
}

// remaining returns how much longer n's attributes stay valid.
func (n *node) remaining(o *options) time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.haveAttr {
		return 0
	}
	return max(0, n.attrTimeo-time.Since(n.attrAt))
}

// fuseAttr returns n's attributes as FUSE has them, and how long the
// kernel may cache them.
func (n *node) fuseAttr(o *options) (fuse.Attr, time.Duration) {
	n.mu.Lock()
	a := n.attr
	valid := max(0, n.attrTimeo-time.Since(n.attrAt))
	n.mu.Unlock()
	return fuseAttr(a), valid
}

func fuseAttr(a nfs3.Attr) fuse.Attr {
	major, minor := a.Rdev[0], a.Rdev[1]
	return fuse.Attr{
		Ino:       a.FileID,
		Size:      a.Size,
		Blocks:    (a.Used + 511) / 512,
		Atime:     uint64(a.Atime.Sec),
		Atimensec: a.Atime.Nsec,
		Mtime:     uint64(a.Mtime.Sec),
		Mtimensec: a.Mtime.Nsec,
		Ctime:     uint64(a.Ctime.Sec),
		Ctimensec: a.Ctime.Nsec,
		Mode:      a.Type.IfMode() | a.Mode&07777,
		Nlink:     a.Nlink,
		Owner:     fuse.Owner{Uid: a.UID, Gid: a.GID},
		Rdev:      minor&0xff | (major&0xfff)<<8 | (minor&^0xff)<<12,
		Blksize:   4096,
	}
}

// cachedAccess returns the ACCESS bits uid was granted, while n's
// attributes stay valid.
func (n *node) cachedAccess(o *options, uid uint32) (uint32, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.haveAttr || time.Since(n.attrAt) >= n.attrTimeo {
		return 0, false
	}
	got, ok := n.access[uid]
	return got, ok
}

func (n *node) storeAccess(uid, asked, got uint32) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.access == nil {
		n.access = map[uint32]uint32{}
	}
	// Bits not asked about are unknown: keep them out.
	n.access[uid] = n.access[uid]&^asked | got&asked
}

// dent returns the cached handle of name in directory n (nil: cached as
// absent) and whether there is one.
func (n *node) dent(name string) (nfs3.FH, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dents == nil || sigOf(n.attr) != n.dentsSig {
		return nil, false
	}
	fh, ok := n.dents[name]
	return fh, ok
}

// setDent caches name in directory n as fh (nil: absent), for the
// directory as its attributes are now.
func (n *node) setDent(name string, fh nfs3.FH) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.haveAttr {
		return
	}
	if n.dents == nil || n.dentsSig != sigOf(n.attr) {
		n.dents = map[string]nfs3.FH{}
		n.dentsSig = sigOf(n.attr)
	}
	n.dents[name] = fh
}

// tell records that the kernel was told name in directory n for d.
func (n *node) tell(name string, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if d <= 0 {
		delete(n.told, name)
		return
	}
	if n.told == nil {
		n.told = map[string]time.Time{}
	}
	n.told[name] = time.Now().Add(d)
}

// forced reports whether the kernel asks for name in directory n though
// it may still use what it was told.
func (n *node) forced(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	until, ok := n.told[name]
	if ok && !time.Now().Before(until) {
		delete(n.told, name)
		return false
	}
	return ok
}

// dropDent forgets what the lookup cache knows of name in directory n.
func (n *node) dropDent(name string) {
	n.mu.Lock()
	delete(n.dents, name)
	n.mu.Unlock()
}

// changedDir applies the weak cache consistency data of a change this
// client made to directory n. If the directory was as cached before the
// change, only this client changed it: the cached names stay valid, and
// edit updates them for the change. Otherwise another client changed it
// too, and the cached names go.
func (n *node) changedDir(o *options, w nfs3.Wcc, edit func(dents map[string]nfs3.FH)) {
	if w.After == nil {
		n.mu.Lock()
		n.attrAt, n.dents = time.Time{}, nil
		n.mu.Unlock()
		return
	}
	n.mu.Lock()
	ours := w.Before != nil && n.haveAttr && n.dents != nil &&
		n.dentsSig == sigOf(n.attr) &&
		(sig{w.Before.Mtime, w.Before.Ctime, w.Before.Size}) == n.dentsSig
	if ours {
		edit(n.dents)
		n.dentsSig = sigOf(*w.After)
	}
	n.mu.Unlock()
	n.update(o, *w.After, false)
}

// A sillyName is a name a file removed while open here was renamed to, to
// be removed when it is closed.
type sillyName struct {
	dir  nfs3.FH
	name string
	cred sunrpc.Auth
}
