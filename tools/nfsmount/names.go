//go:build linux

package main

import (
	"fmt"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

// made finishes a call that made name in dir: it caches what the reply
// says, asks for what it left out (the handle, the attributes), and
// describes the new object to the kernel.
func (fs *nfsFS) made(dir *node, name string, cred sunrpc.Auth, fh nfs3.FH, attr *nfs3.Attr, w nfs3.Wcc, err error, out *fuse.EntryOut) (*node, fuse.Status) {
	if err != nil {
		if w.After != nil {
			dir.update(&fs.opts, *w.After, false)
		}
		fs.forgetEntry(dir, name)
		return nil, fs.status(err)
	}
	if fh == nil {
		var a *nfs3.Attr
		fh, a, _, err = fs.nfs.Lookup(cred, dir.fh, name)
		if err != nil {
			return nil, fs.status(err)
		}
		attr = a
	}
	dir.changedDir(&fs.opts, w, func(d map[string]nfs3.FH) { d[name] = fh })
	if attr == nil {
		a, err := fs.nfs.Getattr(cred, fh)
		if err != nil {
			return nil, fs.status(err)
		}
		attr = &a
	}
	n := fs.ref(fh, *attr)
	fs.fillEntry(out, dir, name, n)
	return n, fuse.OK
}

func (fs *nfsFS) Mknod(cancel <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	dir := fs.node(in.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	cred := fs.cred(&in.InHeader)
	mode := in.Mode & 07777
	s := nfs3.Sattr{Mode: &mode}
	var (
		fh   nfs3.FH
		attr *nfs3.Attr
		w    nfs3.Wcc
		err  error
	)
	switch in.Mode & syscall.S_IFMT {
	case syscall.S_IFREG, 0:
		fh, attr, w, err = fs.nfs.Create(cred, dir.fh, name, true, s)
	case syscall.S_IFIFO:
		fh, attr, w, err = fs.nfs.Mknod(cred, dir.fh, name, nfs3.TypeFIFO, s, [2]uint32{})
	case syscall.S_IFSOCK:
		fh, attr, w, err = fs.nfs.Mknod(cred, dir.fh, name, nfs3.TypeSock, s, [2]uint32{})
	case syscall.S_IFCHR, syscall.S_IFBLK:
		t := nfs3.TypeChr
		if in.Mode&syscall.S_IFMT == syscall.S_IFBLK {
			t = nfs3.TypeBlk
		}
		major := (in.Rdev >> 8) & 0xfff
		minor := in.Rdev&0xff | (in.Rdev>>12)&0xfff00
		fh, attr, w, err = fs.nfs.Mknod(cred, dir.fh, name, t, s, [2]uint32{major, minor})
	default:
		return fuse.EINVAL
	}
	_, st := fs.made(dir, name, cred, fh, attr, w, err, out)
	return st
}

func (fs *nfsFS) Mkdir(cancel <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	dir := fs.node(in.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	cred := fs.cred(&in.InHeader)
	mode := in.Mode & 07777
	fh, attr, w, err := fs.nfs.Mkdir(cred, dir.fh, name, nfs3.Sattr{Mode: &mode})
	_, st := fs.made(dir, name, cred, fh, attr, w, err, out)
	return st
}

func (fs *nfsFS) Symlink(cancel <-chan struct{}, h *fuse.InHeader, target, name string, out *fuse.EntryOut) fuse.Status {
	dir := fs.node(h.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	cred := fs.cred(h)
	mode := uint32(0777)
	fh, attr, w, err := fs.nfs.Symlink(cred, dir.fh, name, target, nfs3.Sattr{Mode: &mode})
	_, st := fs.made(dir, name, cred, fh, attr, w, err, out)
	return st
}

func (fs *nfsFS) Link(cancel <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	dir, n := fs.node(in.NodeId), fs.node(in.Oldnodeid)
	if dir == nil || n == nil {
		return fuse.ENOENT
	}
	cred := fs.cred(&in.InHeader)
	attr, w, err := fs.nfs.Link(cred, n.fh, dir.fh, name)
	if attr != nil {
		n.update(&fs.opts, *attr, false)
	} else {
		n.invalidate()
	}
	_, st := fs.made(dir, name, cred, n.fh, attr, w, err, out)
	return st
}

// openTarget returns the node that name in dir stands for if that file is
// open here. It asks only while this mount has files open: only then does
// removing or replacing a name need to know what it names.
func (fs *nfsFS) openTarget(dir *node, name string, cred sunrpc.Auth) *node {
	fs.mu.Lock()
	open := fs.openFiles
	fs.mu.Unlock()
	if open == 0 {
		return nil
	}
	fh, _, err := fs.lookup(dir, name, cred)
	if err != nil {
		return nil
	}
	n := fs.nodeByFH(fh)
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.opens == 0 {
		return nil
	}
	return n
}

func (fs *nfsFS) Unlink(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	dir := fs.node(h.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	cred := fs.cred(h)
	if n := fs.openTarget(dir, name, cred); n != nil {
		return fs.status(fs.sillyRename(dir, name, n, cred))
	}
	fh, known := dir.dent(name)
	w, err := fs.nfs.Remove(cred, dir.fh, name)
	fs.removed(dir, name, w, err)
	if known && fh != nil {
		if n := fs.nodeByFH(fh); n != nil {
			n.invalidate() // its link count went down
		}
	}
	return fs.status(err)
}

func (fs *nfsFS) Rmdir(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	dir := fs.node(h.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	w, err := fs.nfs.Rmdir(fs.cred(h), dir.fh, name)
	fs.removed(dir, name, w, err)
	return fs.status(err)
}

// removed caches the outcome of removing name from dir.
func (fs *nfsFS) removed(dir *node, name string, w nfs3.Wcc, err error) {
	if err != nil {
		if w.After != nil {
			dir.update(&fs.opts, *w.After, false)
		}
		fs.forgetEntry(dir, name)
		return
	}
	dir.changedDir(&fs.opts, w, func(d map[string]nfs3.FH) { fs.forgetName(d, name) })
}

// forgetName records in a lookup cache that name no longer exists.
func (fs *nfsFS) forgetName(d map[string]nfs3.FH, name string) {
	if fs.opts.lookupcache == "all" {
		d[name] = nil
	} else {
		delete(d, name)
	}
}

func (fs *nfsFS) Rename(cancel <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	from, to := fs.node(in.NodeId), fs.node(in.Newdir)
	if from == nil || to == nil {
		return fuse.ENOENT
	}
	if in.Flags != 0 {
		return fuse.EINVAL // NFSv3 has neither RENAME_NOREPLACE nor RENAME_EXCHANGE
	}
	cred := fs.cred(&in.InHeader)
	// A file open here that the rename would replace is renamed aside
	// first, as the Linux client does, so that it stays readable.
	if n := fs.openTarget(to, newName, cred); n != nil {
		if moved := fs.openTarget(from, oldName, cred); moved != n {
			if err := fs.sillyRename(to, newName, n, cred); err != nil {
				return fs.status(err)
			}
		}
	}
	fh, _ := from.dent(oldName)
	old, _ := to.dent(newName)
	fw, tw, err := fs.nfs.Rename(cred, from.fh, oldName, to.fh, newName)
	if err != nil {
		if fw.After != nil {
			from.update(&fs.opts, *fw.After, false)
		}
		if tw.After != nil {
			to.update(&fs.opts, *tw.After, false)
		}
		fs.forgetEntry(from, oldName)
		fs.forgetEntry(to, newName)
		return fs.status(err)
	}
	add := func(d map[string]nfs3.FH) {
		if fh != nil {
			d[newName] = fh
		} else {
			delete(d, newName)
		}
	}
	if from == to {
		from.changedDir(&fs.opts, fw, func(d map[string]nfs3.FH) { fs.forgetName(d, oldName); add(d) })
	} else {
		from.changedDir(&fs.opts, fw, func(d map[string]nfs3.FH) { fs.forgetName(d, oldName) })
		to.changedDir(&fs.opts, tw, add)
	}
	for _, h := range []nfs3.FH{fh, old} {
		if h != nil {
			if n := fs.nodeByFH(h); n != nil {
				n.invalidate() // its ctime or link count changed
			}
		}
	}
	return fuse.OK
}

// sillyRename renames name in dir, a name of n, which is open here, to a
// hidden name, as the Linux client does with a file removed while open:
// the file stays readable through the open handles, and the hidden name is
// removed when the last one is closed. The name is the kernel's:
// ".nfs" and the file id and a counter in hex.
func (fs *nfsFS) sillyRename(dir *node, name string, n *node, cred sunrpc.Auth) error {
	n.mu.Lock()
	fileid := n.attr.FileID
	n.mu.Unlock()
	for range 10 {
		fs.mu.Lock()
		fs.silly++
		silly := fmt.Sprintf(".nfs%016x%08x", fileid, fs.silly)
		fs.mu.Unlock()
		if _, _, _, err := fs.nfs.Lookup(cred, dir.fh, silly); err == nil {
			continue // taken
		}
		fw, _, err := fs.nfs.SillyRename(cred, dir.fh, name, dir.fh, silly)
		if err != nil {
			if fw.After != nil {
				dir.update(&fs.opts, *fw.After, false)
			}
			return err
		}
		dir.changedDir(&fs.opts, fw, func(d map[string]nfs3.FH) {
			fs.forgetName(d, name)
			d[silly] = n.fh
		})
		n.mu.Lock()
		n.sillies = append(n.sillies, sillyName{dir: dir.fh, name: silly, cred: cred})
		closed := n.opens == 0
		n.mu.Unlock()
		n.invalidate()
		if closed { // the last handle was closed meanwhile
			fs.sillyDelete(n)
		}
		return nil
	}
	return syscall.EBUSY
}
