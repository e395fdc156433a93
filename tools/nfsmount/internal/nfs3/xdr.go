//go:build linux

package nfs3

import (
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

func putFH(e *sunrpc.Encoder, fh FH) { e.Opaque(fh) }

func putDirop(e *sunrpc.Encoder, dir FH, name string) {
	putFH(e, dir)
	e.String(name)
}

func putTime(e *sunrpc.Encoder, t Time) {
	e.Uint32(t.Sec)
	e.Uint32(t.Nsec)
}

func putSattr(e *sunrpc.Encoder, s Sattr) {
	put32 := func(p *uint32) {
		e.Bool(p != nil)
		if p != nil {
			e.Uint32(*p)
		}
	}
	put32(s.Mode)
	put32(s.UID)
	put32(s.GID)
	e.Bool(s.Size != nil)
	if s.Size != nil {
		e.Uint64(*s.Size)
	}
	e.Uint32(uint32(s.Atime))
	if s.Atime == ClientTime {
		putTime(e, s.AtimeVal)
	}
	e.Uint32(uint32(s.Mtime))
	if s.Mtime == ClientTime {
		putTime(e, s.MtimeVal)
	}
}

func getFH(d *sunrpc.Decoder) FH {
	p := d.Opaque(MaxFH)
	return append(FH(nil), p...)
}

func getTime(d *sunrpc.Decoder) Time {
	return Time{Sec: d.Uint32(), Nsec: d.Uint32()}
}

func getAttr(d *sunrpc.Decoder) Attr {
	var a Attr
	a.Type = FileType(d.Uint32())
	a.Mode = d.Uint32()
	a.Nlink = d.Uint32()
	a.UID = d.Uint32()
	a.GID = d.Uint32()
	a.Size = d.Uint64()
	a.Used = d.Uint64()
	a.Rdev = [2]uint32{d.Uint32(), d.Uint32()}
	a.FSID = d.Uint64()
	a.FileID = d.Uint64()
	a.Atime = getTime(d)
	a.Mtime = getTime(d)
	a.Ctime = getTime(d)
	return a
}

func getPostOpAttr(d *sunrpc.Decoder) *Attr {
	if !d.Bool() {
		return nil
	}
	a := getAttr(d)
	return &a
}

func getPostOpFH(d *sunrpc.Decoder) FH {
	if !d.Bool() {
		return nil
	}
	return getFH(d)
}

func getWcc(d *sunrpc.Decoder) Wcc {
	var w Wcc
	if d.Bool() {
		w.Before = &WccAttr{Size: d.Uint64(), Mtime: getTime(d), Ctime: getTime(d)}
	}
	w.After = getPostOpAttr(d)
	return w
}

func getStatus(d *sunrpc.Decoder) Status { return Status(d.Uint32()) }

// putAttr encodes a fattr3; the tests' fake server uses it.
func putAttr(e *sunrpc.Encoder, a Attr) {
	e.Uint32(uint32(a.Type))
	e.Uint32(a.Mode)
	e.Uint32(a.Nlink)
	e.Uint32(a.UID)
	e.Uint32(a.GID)
	e.Uint64(a.Size)
	e.Uint64(a.Used)
	e.Uint32(a.Rdev[0])
	e.Uint32(a.Rdev[1])
	e.Uint64(a.FSID)
	e.Uint64(a.FileID)
	putTime(e, a.Atime)
	putTime(e, a.Mtime)
	putTime(e, a.Ctime)
}
