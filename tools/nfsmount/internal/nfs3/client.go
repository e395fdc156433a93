//go:build linux

package nfs3

import (
	"context"
	"fmt"
	"time"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

// A Client makes NFSv3 calls over an RPC client. Each call takes the
// credential to send.
type Client struct {
	RPC *sunrpc.Client
}

// jukeboxWait is how long a call answered NFS3ERR_JUKEBOX waits before it
// is made again (the Linux client waits 5 s; Ganesha answers it while a
// file is busy, briefly).
const jukeboxWait = 100 * time.Millisecond

// call makes the call, again while the server answers NFS3ERR_JUKEBOX, and
// returns a decoder at the results and their status. A transport error is
// returned as err.
func (c *Client) call(proc uint32, cred sunrpc.Auth, args []byte) (*sunrpc.Decoder, Status, error) {
	return c.callCtx(context.Background(), proc, cred, args)
}

func (c *Client) callCtx(ctx context.Context, proc uint32, cred sunrpc.Auth, args []byte) (*sunrpc.Decoder, Status, error) {
	for {
		d, err := c.RPC.Call(ctx, proc, cred, args)
		if err != nil {
			return nil, 0, fmt.Errorf("nfs %s: %w", ProcName(proc), err)
		}
		st := getStatus(d)
		if st == ErrJukebox {
			time.Sleep(jukeboxWait)
			continue
		}
		return d, st, nil
	}
}

func done(d *sunrpc.Decoder, st Status) error {
	if err := d.Err(); err != nil {
		return fmt.Errorf("nfs: decoding a reply: %w", err)
	}
	if st != OK {
		return st
	}
	return nil
}

// Null calls the NULL procedure (a ping).
func (c *Client) Null() error {
	_, err := c.RPC.Call(context.Background(), ProcNull, sunrpc.AuthNone, nil)
	return err
}

// Getattr returns the attributes of fh.
func (c *Client) Getattr(cred sunrpc.Auth, fh FH) (Attr, error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	d, st, err := c.call(ProcGetattr, cred, e.Bytes())
	if err != nil {
		return Attr{}, err
	}
	var a Attr
	if st == OK {
		a = getAttr(d)
	}
	return a, done(d, st)
}

// Setattr sets attributes of fh.
func (c *Client) Setattr(cred sunrpc.Auth, fh FH, s Sattr) (Wcc, error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	putSattr(&e, s)
	e.Bool(false) // no guard
	d, st, err := c.call(ProcSetattr, cred, e.Bytes())
	if err != nil {
		return Wcc{}, err
	}
	w := getWcc(d)
	return w, done(d, st)
}

// Lookup looks name up in dir and returns its handle and the attributes of
// the object and of dir, where the server sends them.
func (c *Client) Lookup(cred sunrpc.Auth, dir FH, name string) (fh FH, attr, dirAttr *Attr, err error) {
	var e sunrpc.Encoder
	putDirop(&e, dir, name)
	d, st, err := c.call(ProcLookup, cred, e.Bytes())
	if err != nil {
		return nil, nil, nil, err
	}
	if st == OK {
		fh = getFH(d)
		attr = getPostOpAttr(d)
	}
	dirAttr = getPostOpAttr(d)
	return fh, attr, dirAttr, done(d, st)
}

// Access asks which of the access bits mask the credential has on fh.
func (c *Client) Access(cred sunrpc.Auth, fh FH, mask uint32) (granted uint32, attr *Attr, err error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	e.Uint32(mask)
	d, st, err := c.call(ProcAccess, cred, e.Bytes())
	if err != nil {
		return 0, nil, err
	}
	attr = getPostOpAttr(d)
	if st == OK {
		granted = d.Uint32()
	}
	return granted, attr, done(d, st)
}

// Readlink returns the target of the symbolic link fh.
func (c *Client) Readlink(cred sunrpc.Auth, fh FH) (string, *Attr, error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	d, st, err := c.call(ProcReadlink, cred, e.Bytes())
	if err != nil {
		return "", nil, err
	}
	attr := getPostOpAttr(d)
	var target string
	if st == OK {
		target = d.String(-1)
	}
	return target, attr, done(d, st)
}

// Read reads at most count bytes of fh at off.
func (c *Client) Read(cred sunrpc.Auth, fh FH, off uint64, count uint32) (data []byte, eof bool, attr *Attr, err error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	e.Uint64(off)
	e.Uint32(count)
	d, st, err := c.call(ProcRead, cred, e.Bytes())
	if err != nil {
		return nil, false, nil, err
	}
	attr = getPostOpAttr(d)
	if st == OK {
		d.Uint32() // count
		eof = d.Bool()
		data = d.Opaque(-1)
	}
	return data, eof, attr, done(d, st)
}

// Write writes data to fh at off with the given stability and returns how
// much the server wrote and the stability it wrote it with.
func (c *Client) Write(cred sunrpc.Auth, fh FH, off uint64, data []byte, stable uint32) (n uint32, committed uint32, w Wcc, err error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	e.Uint64(off)
	e.Uint32(uint32(len(data)))
	e.Uint32(stable)
	e.Opaque(data)
	d, st, err := c.call(ProcWrite, cred, e.Bytes())
	if err != nil {
		return 0, 0, Wcc{}, err
	}
	w = getWcc(d)
	if st == OK {
		n = d.Uint32()
		committed = d.Uint32()
		d.Fixed(8) // write verifier
	}
	return n, committed, w, done(d, st)
}

// Commit asks the server to make earlier unstable writes to fh stable.
func (c *Client) Commit(cred sunrpc.Auth, fh FH) (Wcc, error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	e.Uint64(0)
	e.Uint32(0)
	d, st, err := c.call(ProcCommit, cred, e.Bytes())
	if err != nil {
		return Wcc{}, err
	}
	w := getWcc(d)
	return w, done(d, st)
}

// newObject decodes the results CREATE, MKDIR, SYMLINK and MKNOD share.
func newObject(d *sunrpc.Decoder, st Status) (fh FH, attr *Attr, dir Wcc, err error) {
	if st == OK {
		fh = getPostOpFH(d)
		attr = getPostOpAttr(d)
	}
	dir = getWcc(d)
	return fh, attr, dir, done(d, st)
}

// Create creates a regular file name in dir. Guarded, it fails with
// NFS3ERR_EXIST if the name exists (O_EXCL); unchecked, it opens an
// existing file. The handle may be nil if the server did not send it.
func (c *Client) Create(cred sunrpc.Auth, dir FH, name string, guarded bool, s Sattr) (FH, *Attr, Wcc, error) {
	var e sunrpc.Encoder
	putDirop(&e, dir, name)
	if guarded {
		e.Uint32(createGuard)
	} else {
		e.Uint32(createUnchkd)
	}
	putSattr(&e, s)
	d, st, err := c.call(ProcCreate, cred, e.Bytes())
	if err != nil {
		return nil, nil, Wcc{}, err
	}
	return newObject(d, st)
}

// Mkdir makes a directory name in dir.
func (c *Client) Mkdir(cred sunrpc.Auth, dir FH, name string, s Sattr) (FH, *Attr, Wcc, error) {
	var e sunrpc.Encoder
	putDirop(&e, dir, name)
	putSattr(&e, s)
	d, st, err := c.call(ProcMkdir, cred, e.Bytes())
	if err != nil {
		return nil, nil, Wcc{}, err
	}
	return newObject(d, st)
}

// Symlink makes a symbolic link name in dir pointing to target.
func (c *Client) Symlink(cred sunrpc.Auth, dir FH, name, target string, s Sattr) (FH, *Attr, Wcc, error) {
	var e sunrpc.Encoder
	putDirop(&e, dir, name)
	putSattr(&e, s)
	e.String(target)
	d, st, err := c.call(ProcSymlink, cred, e.Bytes())
	if err != nil {
		return nil, nil, Wcc{}, err
	}
	return newObject(d, st)
}

// Mknod makes a special file name in dir: a FIFO, a socket, or a device
// (major and minor numbers in spec).
func (c *Client) Mknod(cred sunrpc.Auth, dir FH, name string, t FileType, s Sattr, spec [2]uint32) (FH, *Attr, Wcc, error) {
	var e sunrpc.Encoder
	putDirop(&e, dir, name)
	e.Uint32(uint32(t))
	switch t {
	case TypeChr, TypeBlk:
		putSattr(&e, s)
		e.Uint32(spec[0])
		e.Uint32(spec[1])
	case TypeSock, TypeFIFO:
		putSattr(&e, s)
	}
	d, st, err := c.call(ProcMknod, cred, e.Bytes())
	if err != nil {
		return nil, nil, Wcc{}, err
	}
	return newObject(d, st)
}

func (c *Client) dirop(proc uint32, cred sunrpc.Auth, dir FH, name string) (Wcc, error) {
	var e sunrpc.Encoder
	putDirop(&e, dir, name)
	d, st, err := c.call(proc, cred, e.Bytes())
	if err != nil {
		return Wcc{}, err
	}
	w := getWcc(d)
	return w, done(d, st)
}

// Remove removes the name of a non-directory.
func (c *Client) Remove(cred sunrpc.Auth, dir FH, name string) (Wcc, error) {
	return c.dirop(ProcRemove, cred, dir, name)
}

// Rmdir removes an empty directory.
func (c *Client) Rmdir(cred sunrpc.Auth, dir FH, name string) (Wcc, error) {
	return c.dirop(ProcRmdir, cred, dir, name)
}

// Rename renames from/fromName to to/toName, replacing what toName names.
func (c *Client) Rename(cred sunrpc.Auth, from FH, fromName string, to FH, toName string) (fromWcc, toWcc Wcc, err error) {
	return c.rename(context.Background(), cred, from, fromName, to, toName)
}

// SillyRename is Rename made instead of a REMOVE (of a file open here): a
// server that executes it twice removes, as a REMOVE executed twice would,
// whatever another client made at fromName in between. Its reply is lost,
// when replies are lost on purpose, only where REMOVE's are.
func (c *Client) SillyRename(cred sunrpc.Auth, from FH, fromName string, to FH, toName string) (fromWcc, toWcc Wcc, err error) {
	return c.rename(sunrpc.LoseAs(context.Background(), ProcRemove), cred, from, fromName, to, toName)
}

func (c *Client) rename(ctx context.Context, cred sunrpc.Auth, from FH, fromName string, to FH, toName string) (fromWcc, toWcc Wcc, err error) {
	var e sunrpc.Encoder
	putDirop(&e, from, fromName)
	putDirop(&e, to, toName)
	d, st, err := c.callCtx(ctx, ProcRename, cred, e.Bytes())
	if err != nil {
		return Wcc{}, Wcc{}, err
	}
	fromWcc = getWcc(d)
	toWcc = getWcc(d)
	return fromWcc, toWcc, done(d, st)
}

// Link makes dir/name a new name of fh and returns fh's attributes after.
func (c *Client) Link(cred sunrpc.Auth, fh FH, dir FH, name string) (*Attr, Wcc, error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	putDirop(&e, dir, name)
	d, st, err := c.call(ProcLink, cred, e.Bytes())
	if err != nil {
		return nil, Wcc{}, err
	}
	attr := getPostOpAttr(d)
	w := getWcc(d)
	return attr, w, done(d, st)
}

// Readdirplus lists dir from cookie on (0: from the start; verf is then
// zero) and returns the entries with their attributes and handles, the
// cookie verifier to continue with, and whether the listing is complete.
func (c *Client) Readdirplus(cred sunrpc.Auth, dir FH, cookie uint64, verf [8]byte, dircount, maxcount uint32) ([]Entry, [8]byte, bool, *Attr, error) {
	var e sunrpc.Encoder
	putFH(&e, dir)
	e.Uint64(cookie)
	e.Fixed(verf[:])
	e.Uint32(dircount)
	e.Uint32(maxcount)
	d, st, err := c.call(ProcReaddirplus, cred, e.Bytes())
	if err != nil {
		return nil, verf, false, nil, err
	}
	ents, verf, eof, dirAttr := getReaddirplus(d, st, verf)
	return ents, verf, eof, dirAttr, done(d, st)
}

// getReaddirplus decodes READDIRPLUS3res after its status.
func getReaddirplus(d *sunrpc.Decoder, st Status, verf [8]byte) ([]Entry, [8]byte, bool, *Attr) {
	dirAttr := getPostOpAttr(d)
	var ents []Entry
	eof := false
	if st == OK {
		copy(verf[:], d.Fixed(8))
		for d.Bool() {
			var en Entry
			en.FileID = d.Uint64()
			en.Name = d.String(-1)
			en.Cookie = d.Uint64()
			en.Attr = getPostOpAttr(d)
			en.FH = getPostOpFH(d)
			ents = append(ents, en)
		}
		eof = d.Bool()
	}
	return ents, verf, eof, dirAttr
}

// Readdir is like Readdirplus but lists names and file ids only.
func (c *Client) Readdir(cred sunrpc.Auth, dir FH, cookie uint64, verf [8]byte, count uint32) ([]Entry, [8]byte, bool, *Attr, error) {
	var e sunrpc.Encoder
	putFH(&e, dir)
	e.Uint64(cookie)
	e.Fixed(verf[:])
	e.Uint32(count)
	d, st, err := c.call(ProcReaddir, cred, e.Bytes())
	if err != nil {
		return nil, verf, false, nil, err
	}
	dirAttr := getPostOpAttr(d)
	var ents []Entry
	eof := false
	if st == OK {
		copy(verf[:], d.Fixed(8))
		for d.Bool() {
			var en Entry
			en.FileID = d.Uint64()
			en.Name = d.String(-1)
			en.Cookie = d.Uint64()
			ents = append(ents, en)
		}
		eof = d.Bool()
	}
	return ents, verf, eof, dirAttr, done(d, st)
}

// Fsstat returns the space and file counts of the filesystem of fh.
func (c *Client) Fsstat(cred sunrpc.Auth, fh FH) (FSStat, error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	d, st, err := c.call(ProcFsstat, cred, e.Bytes())
	if err != nil {
		return FSStat{}, err
	}
	getPostOpAttr(d)
	var s FSStat
	if st == OK {
		s = FSStat{d.Uint64(), d.Uint64(), d.Uint64(), d.Uint64(), d.Uint64(), d.Uint64()}
		d.Uint32() // invarsec
	}
	return s, done(d, st)
}

// Fsinfo returns the transfer sizes and properties of the filesystem of fh.
func (c *Client) Fsinfo(cred sunrpc.Auth, fh FH) (FSInfo, error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	d, st, err := c.call(ProcFsinfo, cred, e.Bytes())
	if err != nil {
		return FSInfo{}, err
	}
	getPostOpAttr(d)
	var s FSInfo
	if st == OK {
		s.RtMax = d.Uint32()
		s.RtPref = d.Uint32()
		d.Uint32() // rtmult
		s.WtMax = d.Uint32()
		s.WtPref = d.Uint32()
		d.Uint32() // wtmult
		s.DtPref = d.Uint32()
		s.MaxFileSize = d.Uint64()
		s.TimeDelta = getTime(d)
		s.Properties = d.Uint32()
	}
	return s, done(d, st)
}

// Pathconf returns the link and name limits of the filesystem of fh.
func (c *Client) Pathconf(cred sunrpc.Auth, fh FH) (PathConf, error) {
	var e sunrpc.Encoder
	putFH(&e, fh)
	d, st, err := c.call(ProcPathconf, cred, e.Bytes())
	if err != nil {
		return PathConf{}, err
	}
	getPostOpAttr(d)
	var p PathConf
	if st == OK {
		p.LinkMax = d.Uint32()
		p.NameMax = d.Uint32()
		d.Bool()
		d.Bool()
		d.Bool()
		d.Bool()
	}
	return p, done(d, st)
}
