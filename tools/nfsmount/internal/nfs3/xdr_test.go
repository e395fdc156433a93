//go:build linux

package nfs3

import (
	"bytes"
	"errors"
	"syscall"
	"testing"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

func TestSattrEncoding(t *testing.T) {
	mode := uint32(0644)
	size := uint64(0)
	tests := []struct {
		name string
		s    Sattr
		want []byte
	}{
		{"nothing", Sattr{}, []byte{
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // mode uid gid size: not set
			0, 0, 0, 0, 0, 0, 0, 0, // atime mtime: DONT_CHANGE
		}},
		{"mode and size", Sattr{Mode: &mode, Size: &size}, []byte{
			0, 0, 0, 1, 0, 0, 1, 0xa4, // mode 0644
			0, 0, 0, 0, 0, 0, 0, 0, // uid gid
			0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, // size 0
			0, 0, 0, 0, 0, 0, 0, 0,
		}},
		{"times: the server's and a client's with nanoseconds", Sattr{Atime: ServerTime, Mtime: ClientTime, MtimeVal: Time{Sec: 1, Nsec: 999999999}}, []byte{
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 1, // atime SET_TO_SERVER_TIME
			0, 0, 0, 2, 0, 0, 0, 1, 0x3b, 0x9a, 0xc9, 0xff, // mtime SET_TO_CLIENT_TIME 1.999999999
		}},
	}
	for _, tt := range tests {
		var e sunrpc.Encoder
		putSattr(&e, tt.s)
		if !bytes.Equal(e.Bytes(), tt.want) {
			t.Errorf("%s:\n got % x\nwant % x", tt.name, e.Bytes(), tt.want)
		}
	}
}

func TestAttrDecoding(t *testing.T) {
	a := Attr{Type: TypeReg, Mode: 0600, Nlink: 2, UID: 1000, GID: 100, Size: 5, Used: 4096,
		Rdev: [2]uint32{0, 0}, FSID: 7, FileID: 1 << 40,
		Atime: Time{1, 2}, Mtime: Time{3, 4}, Ctime: Time{5, 6}}
	var e sunrpc.Encoder
	putAttr(&e, a)
	if n := len(e.Bytes()); n != 84 {
		t.Errorf("fattr3 is %d bytes, want 84", n)
	}
	// post_op_attr present, then absent; then wcc_data with both.
	var p sunrpc.Encoder
	p.Bool(true)
	putAttr(&p, a)
	p.Bool(false)
	p.Bool(true)
	p.Uint64(5)
	putTime(&p, a.Mtime)
	putTime(&p, a.Ctime)
	p.Bool(true)
	putAttr(&p, a)
	d := sunrpc.NewDecoder(p.Bytes())
	got := getPostOpAttr(d)
	if got == nil || *got != a {
		t.Errorf("post_op_attr: got %+v, want %+v", got, a)
	}
	if got := getPostOpAttr(d); got != nil {
		t.Errorf("absent post_op_attr: got %+v, want nil", got)
	}
	w := getWcc(d)
	if w.Before == nil || *w.Before != (WccAttr{5, a.Mtime, a.Ctime}) || w.After == nil || *w.After != a {
		t.Errorf("wcc_data: got before %+v after %+v", w.Before, w.After)
	}
	if d.Err() != nil || len(d.Rest()) != 0 {
		t.Errorf("decoding: error %v, %d bytes left", d.Err(), len(d.Rest()))
	}
}

func TestStatusErrno(t *testing.T) {
	tests := []struct {
		st   Status
		want syscall.Errno
	}{
		{ErrExist, syscall.EEXIST},
		{ErrNoent, syscall.ENOENT},
		{ErrStale, syscall.ESTALE},
		{ErrNotempty, syscall.ENOTEMPTY},
		{ErrNametoolong, syscall.ENAMETOOLONG},
		{ErrIsdir, syscall.EISDIR},
		{ErrNotdir, syscall.ENOTDIR},
		{ErrAcces, syscall.EACCES},
		{ErrPerm, syscall.EPERM},
		{ErrXdev, syscall.EXDEV},
		{ErrInval, syscall.EINVAL},
		{ErrNospc, syscall.ENOSPC},
		{ErrDquot, syscall.EDQUOT},
		{ErrNotsupp, syscall.EOPNOTSUPP},
		{ErrBadhandle, syscall.ESTALE},
		{Status(12345), syscall.EIO},
	}
	for _, tt := range tests {
		if got := tt.st.Errno(); got != tt.want {
			t.Errorf("%v: errno %v, want %v", tt.st, got, tt.want)
		}
	}
	if !errors.Is(error(ErrExist), syscall.EEXIST) {
		t.Error("errors.Is(NFS3ERR_EXIST, EEXIST) is false, want true")
	}
}

func TestProcNames(t *testing.T) {
	for p := uint32(0); p <= ProcCommit; p++ {
		if q, ok := ProcByName(ProcName(p)); !ok || q != p {
			t.Errorf("ProcByName(ProcName(%d) = %q) = %d, %v", p, ProcName(p), q, ok)
		}
	}
	if p, ok := ProcByName("LINK"); !ok || p != ProcLink {
		t.Errorf("ProcByName(LINK) = %d, %v; want %d", p, ok, ProcLink)
	}
}

func TestReaddirplusEntries(t *testing.T) {
	// The results of READDIRPLUS, after the status: dir attributes,
	// cookie verifier, two entries (one without attributes or handle), EOF.
	var e sunrpc.Encoder
	e.Bool(false)
	e.Fixed([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	e.Bool(true)
	e.Uint64(11)
	e.String("lock")
	e.Uint64(100)
	e.Bool(true)
	putAttr(&e, Attr{Type: TypeReg, FileID: 11, Nlink: 2})
	e.Bool(true)
	e.Opaque([]byte{0xfe, 0xed})
	e.Bool(true)
	e.Uint64(12)
	e.String("fifo")
	e.Uint64(200)
	e.Bool(false)
	e.Bool(false)
	e.Bool(false)
	e.Bool(true)
	d := sunrpc.NewDecoder(e.Bytes())
	ents, verf, eof, _ := getReaddirplus(d, OK, [8]byte{})
	if !eof || d.Err() != nil || verf != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Fatalf("eof %v, verifier % x, error %v; want EOF, verifier 01..08, no error", eof, verf, d.Err())
	}
	if len(ents) != 2 || ents[0].Name != "lock" || ents[0].Attr.Nlink != 2 || !bytes.Equal(ents[0].FH, []byte{0xfe, 0xed}) ||
		ents[1].Name != "fifo" || ents[1].Cookie != 200 || ents[1].Attr != nil || ents[1].FH != nil {
		t.Errorf("entries: %+v", ents)
	}
}
