//go:build linux

package main

import (
	"errors"
	"log"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

// nfsFS serves a FUSE mount from an NFSv3 server. FUSE node IDs stand for
// NFS file handles: one node per handle, kept while the kernel remembers it.
type nfsFS struct {
	fuse.RawFileSystem // ENOSYS for what is not implemented

	nfs     *nfs3.Client
	opts    options
	machine string // AUTH_SYS machine name
	fsinfo  nfs3.FSInfo
	nameMax uint32
	logger  *log.Logger
	server  *fuse.Server

	mu        sync.Mutex
	nodes     map[uint64]*node
	byFH      map[string]*node
	nextID    uint64
	handles   map[uint64]*handle
	nextFh    uint64
	openFiles int    // open handles of files, for the silly rename
	silly     uint32 // counter in silly rename names

	credMu sync.Mutex
	creds  map[uint64]sunrpc.Auth
}

// A handle is an open file or directory.
type handle struct {
	n     *node
	flags uint32
	cred  sunrpc.Auth
	dir   []nfs3.Entry // a directory's entries, read at offset 0
}

func newFS(c *nfs3.Client, root nfs3.FH, opts options, info nfs3.FSInfo, nameMax uint32, logger *log.Logger) *nfsFS {
	host, _ := os.Hostname()
	fs := &nfsFS{
		RawFileSystem: fuse.NewDefaultRawFileSystem(),
		nfs:           c,
		opts:          opts,
		machine:       host,
		fsinfo:        info,
		nameMax:       nameMax,
		logger:        logger,
		nodes:         map[uint64]*node{},
		byFH:          map[string]*node{},
		nextID:        fuse.FUSE_ROOT_ID + 1,
		handles:       map[uint64]*handle{},
		creds:         map[uint64]sunrpc.Auth{},
	}
	r := &node{id: fuse.FUSE_ROOT_ID, fh: root, key: string(root), lookups: 1}
	fs.nodes[r.id] = r
	fs.byFH[r.key] = r
	return fs
}

func (fs *nfsFS) String() string { return "nfsmount" }

func (fs *nfsFS) Init(s *fuse.Server) { fs.server = s }

// cred returns the AUTH_SYS credential of the caller of a FUSE request.
func (fs *nfsFS) cred(h *fuse.InHeader) sunrpc.Auth {
	k := uint64(h.Uid)<<32 | uint64(h.Gid)
	fs.credMu.Lock()
	defer fs.credMu.Unlock()
	a, ok := fs.creds[k]
	if !ok {
		a = sunrpc.AuthSys(uint32(time.Now().Unix()), fs.machine, h.Uid, h.Gid, nil)
		fs.creds[k] = a
	}
	return a
}

// node returns the node of a FUSE node ID.
func (fs *nfsFS) node(id uint64) *node {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.nodes[id]
}

// nodeByFH returns the node of a handle, if the kernel knows one.
func (fs *nfsFS) nodeByFH(fh nfs3.FH) *node {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.byFH[string(fh)]
}

// ref returns the node of fh, made if need be, counting one more lookup by
// the kernel, and caches attr in it.
func (fs *nfsFS) ref(fh nfs3.FH, attr nfs3.Attr) *node {
	fs.mu.Lock()
	n := fs.byFH[string(fh)]
	if n == nil {
		n = &node{id: fs.nextID, fh: fh, key: string(fh)}
		fs.nextID++
		fs.nodes[n.id] = n
		fs.byFH[n.key] = n
	}
	n.lookups++
	fs.mu.Unlock()
	n.update(&fs.opts, attr, false)
	return n
}

func (fs *nfsFS) Forget(id, nlookup uint64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.nodes[id]
	if n == nil || id == fuse.FUSE_ROOT_ID {
		return
	}
	if n.lookups <= nlookup {
		delete(fs.nodes, id)
		if fs.byFH[n.key] == n {
			delete(fs.byFH, n.key)
		}
		return
	}
	n.lookups -= nlookup
}

// status returns the FUSE status of an error of the NFS client: the errno
// of an NFS status, or EIO for a failure of the RPC layer (logged: such a
// failure is the client's or the server's fault, not the caller's).
func (fs *nfsFS) status(err error) fuse.Status {
	if err == nil {
		return fuse.OK
	}
	var st nfs3.Status
	if errors.As(err, &st) {
		return fuse.Status(st.Errno())
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return fuse.Status(e)
	}
	fs.logger.Printf("EIO for: %v", err)
	return fuse.EIO
}

// fillEntry describes n, found as name in dir, to the kernel.
func (fs *nfsFS) fillEntry(out *fuse.EntryOut, dir *node, name string, n *node) {
	out.NodeId = n.id
	out.Generation = 0
	attr, valid := n.fuseAttr(&fs.opts)
	out.Attr = attr
	out.SetAttrTimeout(valid)
	d := fs.entryTimeout(dir, true)
	out.SetEntryTimeout(d)
	dir.tell(name, d)
}

// entryTimeout is how long the kernel may keep a name of dir: as long as
// the directory's attributes stay cached, when lookupcache caches names of
// that kind (positive or negative), as the Linux client revalidates its
// dentries.
func (fs *nfsFS) entryTimeout(dir *node, positive bool) time.Duration {
	switch {
	case fs.opts.lookupcache == "none":
		return 0
	case fs.opts.lookupcache == "positive" && !positive:
		return 0
	}
	return dir.remaining(&fs.opts)
}

// forgetEntry forgets name in dir, here and in the kernel, after a call
// on it failed: the name is not what the caches said. The Linux client
// drops the dentry (d_drop) in the same cases, so that the next use asks
// the server. The kernel is told after the failing request has been
// answered: it holds the directory's lock until then.
func (fs *nfsFS) forgetEntry(dir *node, name string) {
	dir.dropDent(name)
	if fs.opts.noac() || fs.opts.lookupcache == "none" || fs.server == nil {
		return // the kernel keeps no entries
	}
	go fs.server.EntryNotify(dir.id, name)
}

// getattr returns n's attributes from the cache or, when they are not
// fresh (or force), from the server.
func (fs *nfsFS) getattr(n *node, cred sunrpc.Auth, force bool) (nfs3.Attr, error) {
	if !force {
		if a, ok := n.cached(&fs.opts); ok {
			return a, nil
		}
	}
	a, err := fs.nfs.Getattr(cred, n.fh)
	if err != nil {
		return a, err
	}
	n.update(&fs.opts, a, true)
	return a, nil
}

func (fs *nfsFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	n := fs.node(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	if _, err := fs.getattr(n, fs.cred(&in.InHeader), false); err != nil {
		return fs.status(err)
	}
	attr, valid := n.fuseAttr(&fs.opts)
	out.Attr = attr
	out.SetTimeout(valid)
	return fuse.OK
}

func (fs *nfsFS) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	n := fs.node(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	var s nfs3.Sattr
	if in.Valid&fuse.FATTR_MODE != 0 {
		m := in.Mode & 07777
		s.Mode = &m
	}
	if in.Valid&fuse.FATTR_UID != 0 {
		u := in.Uid
		s.UID = &u
	}
	if in.Valid&fuse.FATTR_GID != 0 {
		g := in.Gid
		s.GID = &g
	}
	if in.Valid&fuse.FATTR_SIZE != 0 {
		sz := in.Size
		s.Size = &sz
	}
	if in.Valid&fuse.FATTR_ATIME != 0 {
		if in.Valid&fuse.FATTR_ATIME_NOW != 0 {
			s.Atime = nfs3.ServerTime
		} else {
			s.Atime = nfs3.ClientTime
			s.AtimeVal = nfs3.Time{Sec: uint32(in.Atime), Nsec: in.Atimensec}
		}
	}
	if in.Valid&fuse.FATTR_MTIME != 0 {
		if in.Valid&fuse.FATTR_MTIME_NOW != 0 {
			s.Mtime = nfs3.ServerTime
		} else {
			s.Mtime = nfs3.ClientTime
			s.MtimeVal = nfs3.Time{Sec: uint32(in.Mtime), Nsec: in.Mtimensec}
		}
	}
	cred := fs.cred(&in.InHeader)
	w, err := fs.nfs.Setattr(cred, n.fh, s)
	if err != nil {
		if w.After != nil {
			n.update(&fs.opts, *w.After, false)
		}
		return fs.status(err)
	}
	if w.After != nil {
		n.update(&fs.opts, *w.After, false)
	} else if _, err := fs.getattr(n, cred, true); err != nil {
		return fs.status(err)
	}
	attr, valid := n.fuseAttr(&fs.opts)
	out.Attr = attr
	out.SetTimeout(valid)
	return fuse.OK
}

func (fs *nfsFS) Access(cancel <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	n := fs.node(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	cred := fs.cred(&in.InHeader)
	a, err := fs.getattr(n, cred, false)
	if err != nil {
		return fs.status(err)
	}
	var want uint32
	if in.Mask&4 != 0 { // R_OK
		want |= nfs3.AccessRead
	}
	if in.Mask&2 != 0 { // W_OK
		want |= nfs3.AccessModify | nfs3.AccessExtend
		if a.Type == nfs3.TypeDir {
			want |= nfs3.AccessDelete
		}
	}
	if in.Mask&1 != 0 { // X_OK
		if a.Type == nfs3.TypeDir {
			want |= nfs3.AccessLookup
		} else {
			want |= nfs3.AccessExecute
		}
	}
	if want == 0 {
		return fuse.OK
	}
	return fs.status(fs.access(n, cred, in.Uid, want))
}

// access checks that cred may do what the ACCESS bits want allow on n,
// with the ACCESS call (whose attributes revalidate n's, as the Linux
// client's open does) or, while n's attributes stay cached, its answer
// cached per user.
func (fs *nfsFS) access(n *node, cred sunrpc.Auth, uid, want uint32) error {
	if got, ok := n.cachedAccess(&fs.opts, uid); ok && got&want == want {
		return nil
	}
	got, attr, err := fs.nfs.Access(cred, n.fh, want)
	if attr != nil {
		n.update(&fs.opts, *attr, true)
	}
	if err != nil {
		return err
	}
	n.storeAccess(uid, want, got)
	if got&want != want {
		return syscall.EACCES
	}
	return nil
}

func (fs *nfsFS) Readlink(cancel <-chan struct{}, h *fuse.InHeader) ([]byte, fuse.Status) {
	n := fs.node(h.NodeId)
	if n == nil {
		return nil, fuse.ENOENT
	}
	target, attr, err := fs.nfs.Readlink(fs.cred(h), n.fh)
	if attr != nil {
		n.update(&fs.opts, *attr, false)
	}
	if err != nil {
		return nil, fs.status(err)
	}
	return []byte(target), fuse.OK
}

func (fs *nfsFS) StatFs(cancel <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	n := fs.node(h.NodeId)
	if n == nil {
		n = fs.node(fuse.FUSE_ROOT_ID)
	}
	s, err := fs.nfs.Fsstat(fs.cred(h), n.fh)
	if err != nil {
		return fs.status(err)
	}
	const bsize = 4096
	out.Bsize, out.Frsize = bsize, bsize
	out.Blocks, out.Bfree, out.Bavail = s.TBytes/bsize, s.FBytes/bsize, s.ABytes/bsize
	out.Files, out.Ffree = s.TFiles, s.FFiles
	out.NameLen = fs.nameMax
	return fuse.OK
}
