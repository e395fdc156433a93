//go:build linux

package main

import (
	"errors"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

func (fs *nfsFS) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	dir := fs.node(h.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	if fs.nameMax > 0 && len(name) > int(fs.nameMax) {
		return fuse.Status(syscall.ENAMETOOLONG)
	}
	fh, attr, err := fs.lookup(dir, name, fs.cred(h))
	if errors.Is(err, nfs3.ErrNoent) {
		if d := fs.entryTimeout(dir, false); d > 0 {
			// A negative entry the kernel may keep as long.
			out.NodeId = 0
			out.SetEntryTimeout(d)
			dir.tell(name, d)
			return fuse.OK
		}
	}
	if err != nil {
		return fs.status(err)
	}
	n := fs.ref(fh, attr)
	fs.fillEntry(out, dir, name, n)
	return fuse.OK
}

// lookup finds name in dir: in the lookup cache while the directory's
// attributes are valid and show no change since the name was cached (as
// the Linux client revalidates a dentry), else with LOOKUP. A lookup the
// kernel forced goes to the server.
func (fs *nfsFS) lookup(dir *node, name string, cred sunrpc.Auth) (nfs3.FH, nfs3.Attr, error) {
	if fs.opts.lookupcache != "none" && !dir.forced(name) {
		if _, err := fs.getattr(dir, cred, false); err != nil {
			return nil, nfs3.Attr{}, err
		}
		if fh, ok := dir.dent(name); ok {
			switch {
			case fh == nil && fs.opts.lookupcache == "all":
				return nil, nfs3.Attr{}, nfs3.ErrNoent
			case fh != nil:
				n := fs.nodeByFH(fh)
				if n != nil {
					if a, ok := n.cached(&fs.opts); ok {
						return fh, a, nil
					}
				}
				a, err := fs.nfs.Getattr(cred, fh)
				if err == nil {
					if n != nil {
						n.update(&fs.opts, a, true)
					}
					return fh, a, nil
				}
				// A stale handle: ask the server for the name.
			}
		}
	}
	fh, attr, dirAttr, err := fs.nfs.Lookup(cred, dir.fh, name)
	if dirAttr != nil {
		dir.update(&fs.opts, *dirAttr, false)
	}
	if errors.Is(err, nfs3.ErrNoent) {
		if fs.opts.lookupcache == "all" && dirAttr != nil {
			dir.setDent(name, nil)
		}
		return nil, nfs3.Attr{}, err
	}
	if err != nil {
		return nil, nfs3.Attr{}, err
	}
	if attr == nil {
		a, err := fs.nfs.Getattr(cred, fh)
		if err != nil {
			return nil, nfs3.Attr{}, err
		}
		attr = &a
	}
	if fs.opts.lookupcache != "none" && dirAttr != nil {
		dir.setDent(name, fh)
	}
	return fh, *attr, nil
}
