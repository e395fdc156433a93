//go:build linux

package main

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

func (fs *nfsFS) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	dir := fs.node(in.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	cred := fs.cred(&in.InHeader)
	mode := in.Mode & 07777
	s := nfs3.Sattr{Mode: &mode}
	excl := in.Flags&syscall.O_EXCL != 0
	if in.Flags&syscall.O_TRUNC != 0 && !excl {
		var zero uint64
		s.Size = &zero
	}
	// O_EXCL is a GUARDED create: NFS3ERR_EXIST if the name exists.
	// Without it, UNCHECKED opens a file another client made meanwhile.
	fh, attr, w, err := fs.nfs.Create(cred, dir.fh, name, excl, s)
	n, st := fs.made(dir, name, cred, fh, attr, w, err, &out.EntryOut)
	if !st.Ok() {
		return st
	}
	if typ := out.EntryOut.Attr.Mode & syscall.S_IFMT; typ != syscall.S_IFREG {
		// The server answered with an object that is not a regular file:
		// another client put it at the name while the server was making
		// the file (Ganesha's VFS backend looks the handle up by name
		// after it creates). The kernel would report EIO; the Linux
		// client's open fails as the object requires.
		fs.Forget(n.id, 1)
		fs.forgetEntry(dir, name)
		return notRegular(typ, excl)
	}
	fs.open(n, in.Flags, &out.OpenOut)
	return fuse.OK
}

// notRegular is the error of a create that found an object of type typ
// (S_IFMT bits) at its name: EEXIST for O_EXCL, whatever the object; else
// what opening that object for writing gives.
func notRegular(typ uint32, excl bool) fuse.Status {
	switch {
	case excl:
		return fuse.Status(syscall.EEXIST)
	case typ == syscall.S_IFDIR:
		return fuse.Status(syscall.EISDIR)
	case typ == syscall.S_IFLNK:
		return fuse.Status(syscall.ELOOP)
	}
	return fuse.Status(syscall.ENXIO)
}

func (fs *nfsFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	n := fs.node(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	cred := fs.cred(&in.InHeader)
	var want uint32
	switch in.Flags & syscall.O_ACCMODE {
	case syscall.O_RDONLY:
		want = nfs3.AccessRead
	case syscall.O_WRONLY:
		want = nfs3.AccessModify | nfs3.AccessExtend
	default:
		want = nfs3.AccessRead | nfs3.AccessModify | nfs3.AccessExtend
	}
	// Close-to-open: an open revalidates the file's attributes. The
	// ACCESS call that checks permission brings them, as in the Linux
	// client; with nocto the cached answer does while it is valid.
	before := n.signature()
	if fs.opts.cto {
		n.invalidate()
	}
	if err := fs.access(n, cred, in.Uid, want); err != nil {
		return fs.status(err)
	}
	if n.signature() != before && !fs.opts.noac() && fs.server != nil {
		// The kernel's copy of the attributes is out of date too; an
		// open does not hold locks that the notification waits for.
		fs.server.InodeNotify(n.id, -1, 0)
	}
	fs.open(n, in.Flags, out)
	return fuse.OK
}

// open counts a new open handle of n and fills in what the kernel is told.
func (fs *nfsFS) open(n *node, flags uint32, out *fuse.OpenOut) {
	n.mu.Lock()
	n.opens++
	keep := n.openSig == sigOf(n.attr)
	n.openSig = sigOf(n.attr)
	n.mu.Unlock()
	fs.mu.Lock()
	fs.openFiles++
	fs.nextFh++
	out.Fh = fs.nextFh
	fs.handles[out.Fh] = &handle{n: n, flags: flags}
	fs.mu.Unlock()
	switch {
	case fs.opts.noac():
		// No page cache either: every read and write goes to the server.
		out.OpenFlags = fuse.FOPEN_DIRECT_IO
	case keep:
		// Unchanged since it was last opened: the pages cached stay.
		out.OpenFlags = fuse.FOPEN_KEEP_CACHE
	}
}

func (fs *nfsFS) handle(fh uint64) *handle {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.handles[fh]
}

func (fs *nfsFS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	h := fs.handle(in.Fh)
	if h == nil {
		return nil, fuse.EBADF
	}
	cred := fs.cred(&in.InHeader)
	want := min(int(in.Size), len(buf))
	got := 0
	for got < want {
		count := min(uint32(want-got), fs.opts.rsize)
		data, eof, attr, err := fs.nfs.Read(cred, h.n.fh, in.Offset+uint64(got), count)
		if attr != nil {
			h.n.update(&fs.opts, *attr, false)
		}
		if err != nil {
			if got > 0 {
				break
			}
			return nil, fs.status(err)
		}
		got += copy(buf[got:], data)
		if eof || len(data) == 0 {
			break
		}
	}
	return fuse.ReadResultData(buf[:got]), fuse.OK
}

// Write writes with FILE_SYNC, so that what close (and fsync) must make
// stable already is: the Linux client, too, writes a file this small with
// FILE_SYNC when it is closed.
func (fs *nfsFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	h := fs.handle(in.Fh)
	if h == nil {
		return 0, fuse.EBADF
	}
	cred := fs.cred(&in.InHeader)
	done := 0
	for done < len(data) {
		chunk := data[done:min(len(data), done+int(fs.opts.wsize))]
		n, _, w, err := fs.nfs.Write(cred, h.n.fh, in.Offset+uint64(done), chunk, nfs3.FileSync)
		if w.After != nil {
			h.n.update(&fs.opts, *w.After, false)
		}
		if err != nil {
			if done > 0 {
				break
			}
			return 0, fs.status(err)
		}
		if n == 0 {
			break
		}
		done += int(n)
	}
	return uint32(done), fuse.OK
}

func (fs *nfsFS) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status { return fuse.OK }

func (fs *nfsFS) Fsync(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status { return fuse.OK }

func (fs *nfsFS) Release(cancel <-chan struct{}, in *fuse.ReleaseIn) {
	fs.mu.Lock()
	h := fs.handles[in.Fh]
	delete(fs.handles, in.Fh)
	if h != nil {
		fs.openFiles--
	}
	fs.mu.Unlock()
	if h == nil {
		return
	}
	h.n.mu.Lock()
	h.n.opens--
	last := h.n.opens == 0
	h.n.mu.Unlock()
	if last {
		fs.sillyDelete(h.n)
	}
}

// sillyDelete removes the names n was silly-renamed to, now that it is
// not open here.
func (fs *nfsFS) sillyDelete(n *node) {
	n.mu.Lock()
	names := n.sillies
	n.sillies = nil
	n.mu.Unlock()
	for _, s := range names {
		w, err := fs.nfs.Remove(s.cred, s.dir, s.name)
		if dir := fs.nodeByFH(s.dir); dir != nil {
			fs.removed(dir, s.name, w, err)
		}
		if err != nil {
			fs.logger.Printf("removing %s, the silly rename of a file removed while open: %v", s.name, err)
		}
	}
	n.invalidate()
}

func (fs *nfsFS) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	n := fs.node(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	fs.mu.Lock()
	fs.nextFh++
	out.Fh = fs.nextFh
	fs.handles[out.Fh] = &handle{n: n, flags: in.Flags, cred: fs.cred(&in.InHeader)}
	fs.mu.Unlock()
	return fuse.OK
}

// ReadDir lists a directory from the entries read with READDIRPLUS when
// the listing starts (offset 0); an entry's offset is its index plus one.
func (fs *nfsFS) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	h := fs.handle(in.Fh)
	if h == nil {
		return fuse.EBADF
	}
	if in.Offset == 0 || h.dir == nil {
		ents, err := fs.readdir(h.n, fs.cred(&in.InHeader))
		if err != nil {
			return fs.status(err)
		}
		h.dir = ents
	}
	for i := int(in.Offset); i < len(h.dir); i++ {
		e := h.dir[i]
		var mode uint32
		if e.Attr != nil {
			mode = e.Attr.Type.IfMode()
		}
		if !out.AddDirEntry(fuse.DirEntry{Name: e.Name, Ino: e.FileID, Mode: mode, Off: uint64(i + 1)}) {
			break
		}
	}
	return fuse.OK
}

func (fs *nfsFS) readdir(n *node, cred sunrpc.Auth) ([]nfs3.Entry, error) {
	var all []nfs3.Entry
	var cookie uint64
	var verf [8]byte
	for {
		ents, v, eof, dirAttr, err := fs.nfs.Readdirplus(cred, n.fh, cookie, verf, 16<<10, 64<<10)
		if dirAttr != nil {
			n.update(&fs.opts, *dirAttr, false)
		}
		if err != nil {
			return nil, err
		}
		all = append(all, ents...)
		if eof || len(ents) == 0 {
			return all, nil
		}
		cookie, verf = ents[len(ents)-1].Cookie, v
	}
}

func (fs *nfsFS) ReleaseDir(in *fuse.ReleaseIn) {
	fs.mu.Lock()
	delete(fs.handles, in.Fh)
	fs.mu.Unlock()
}

func (fs *nfsFS) FsyncDir(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status { return fuse.OK }
