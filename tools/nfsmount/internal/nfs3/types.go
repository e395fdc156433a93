//go:build linux

// Package nfs3 is a client of NFS version 3 (RFC 1813) and of its MOUNT
// protocol (version 3), over the ONC RPC client of package sunrpc.
package nfs3

import (
	"fmt"
	"syscall"
	"time"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

// The NFS and MOUNT programs and versions.
const (
	Prog      = 100003
	Vers      = 3
	MountProg = 100005
	MountVers = 3
)

// NFSv3 procedures.
const (
	ProcNull        = 0
	ProcGetattr     = 1
	ProcSetattr     = 2
	ProcLookup      = 3
	ProcAccess      = 4
	ProcReadlink    = 5
	ProcRead        = 6
	ProcWrite       = 7
	ProcCreate      = 8
	ProcMkdir       = 9
	ProcSymlink     = 10
	ProcMknod       = 11
	ProcRemove      = 12
	ProcRmdir       = 13
	ProcRename      = 14
	ProcLink        = 15
	ProcReaddir     = 16
	ProcReaddirplus = 17
	ProcFsstat      = 18
	ProcFsinfo      = 19
	ProcPathconf    = 20
	ProcCommit      = 21
)

var procNames = [...]string{"NULL", "GETATTR", "SETATTR", "LOOKUP", "ACCESS", "READLINK", "READ", "WRITE",
	"CREATE", "MKDIR", "SYMLINK", "MKNOD", "REMOVE", "RMDIR", "RENAME", "LINK", "READDIR", "READDIRPLUS",
	"FSSTAT", "FSINFO", "PATHCONF", "COMMIT"}

// ProcName returns the name of an NFSv3 procedure, as RFC 1813 spells it.
func ProcName(proc uint32) string {
	if int(proc) < len(procNames) {
		return procNames[proc]
	}
	return fmt.Sprintf("PROC%d", proc)
}

// ProcByName returns the procedure named name (as ProcName spells it).
func ProcByName(name string) (uint32, bool) {
	for i, n := range procNames {
		if n == name {
			return uint32(i), true
		}
	}
	return 0, false
}

// A Status is an nfsstat3. Every status but OK is an error.
type Status uint32

// NFSv3 status codes.
const (
	OK             Status = 0
	ErrPerm        Status = 1
	ErrNoent       Status = 2
	ErrIO          Status = 5
	ErrNxio        Status = 6
	ErrAcces       Status = 13
	ErrExist       Status = 17
	ErrXdev        Status = 18
	ErrNodev       Status = 19
	ErrNotdir      Status = 20
	ErrIsdir       Status = 21
	ErrInval       Status = 22
	ErrFbig        Status = 27
	ErrNospc       Status = 28
	ErrRofs        Status = 30
	ErrMlink       Status = 31
	ErrNametoolong Status = 63
	ErrNotempty    Status = 66
	ErrDquot       Status = 69
	ErrStale       Status = 70
	ErrRemote      Status = 71
	ErrBadhandle   Status = 10001
	ErrNotSync     Status = 10002
	ErrBadCookie   Status = 10003
	ErrNotsupp     Status = 10004
	ErrToosmall    Status = 10005
	ErrServerfault Status = 10006
	ErrBadtype     Status = 10007
	ErrJukebox     Status = 10008
)

var statusInfo = map[Status]struct {
	name  string
	errno syscall.Errno
}{
	OK:             {"NFS3_OK", 0},
	ErrPerm:        {"NFS3ERR_PERM", syscall.EPERM},
	ErrNoent:       {"NFS3ERR_NOENT", syscall.ENOENT},
	ErrIO:          {"NFS3ERR_IO", syscall.EIO},
	ErrNxio:        {"NFS3ERR_NXIO", syscall.ENXIO},
	ErrAcces:       {"NFS3ERR_ACCES", syscall.EACCES},
	ErrExist:       {"NFS3ERR_EXIST", syscall.EEXIST},
	ErrXdev:        {"NFS3ERR_XDEV", syscall.EXDEV},
	ErrNodev:       {"NFS3ERR_NODEV", syscall.ENODEV},
	ErrNotdir:      {"NFS3ERR_NOTDIR", syscall.ENOTDIR},
	ErrIsdir:       {"NFS3ERR_ISDIR", syscall.EISDIR},
	ErrInval:       {"NFS3ERR_INVAL", syscall.EINVAL},
	ErrFbig:        {"NFS3ERR_FBIG", syscall.EFBIG},
	ErrNospc:       {"NFS3ERR_NOSPC", syscall.ENOSPC},
	ErrRofs:        {"NFS3ERR_ROFS", syscall.EROFS},
	ErrMlink:       {"NFS3ERR_MLINK", syscall.EMLINK},
	ErrNametoolong: {"NFS3ERR_NAMETOOLONG", syscall.ENAMETOOLONG},
	ErrNotempty:    {"NFS3ERR_NOTEMPTY", syscall.ENOTEMPTY},
	ErrDquot:       {"NFS3ERR_DQUOT", syscall.EDQUOT},
	ErrStale:       {"NFS3ERR_STALE", syscall.ESTALE},
	ErrRemote:      {"NFS3ERR_REMOTE", syscall.EREMOTE},
	// The Linux client passes its own codes for these (EBADHANDLE and
	// the like, above 511) through to programs at times; here they are
	// the nearest ordinary errno.
	ErrBadhandle:   {"NFS3ERR_BADHANDLE", syscall.ESTALE},
	ErrNotSync:     {"NFS3ERR_NOT_SYNC", syscall.EIO},
	ErrBadCookie:   {"NFS3ERR_BAD_COOKIE", syscall.EIO},
	ErrNotsupp:     {"NFS3ERR_NOTSUPP", syscall.EOPNOTSUPP},
	ErrToosmall:    {"NFS3ERR_TOOSMALL", syscall.EIO},
	ErrServerfault: {"NFS3ERR_SERVERFAULT", syscall.EREMOTEIO},
	ErrBadtype:     {"NFS3ERR_BADTYPE", syscall.EINVAL},
	ErrJukebox:     {"NFS3ERR_JUKEBOX", syscall.EAGAIN},
}

func (s Status) String() string {
	if i, ok := statusInfo[s]; ok {
		return i.name
	}
	return fmt.Sprintf("NFS3ERR_%d", uint32(s))
}

func (s Status) Error() string { return "nfs: " + s.String() }

// Errno returns the errno a Linux program sees for s.
func (s Status) Errno() syscall.Errno {
	if i, ok := statusInfo[s]; ok {
		return i.errno
	}
	return syscall.EIO
}

// Is lets errors.Is match a Status against the errno it stands for.
func (s Status) Is(target error) bool {
	e, ok := target.(syscall.Errno)
	return ok && e == s.Errno()
}

// StatusOf names the status a reply to an NFSv3 procedure reports (all
// results begin with an nfsstat3), for sunrpc.Options.Status.
func StatusOf(proc uint32, d *sunrpc.Decoder) string {
	if proc == ProcNull {
		return "OK"
	}
	s := Status(d.Uint32())
	if d.Err() != nil {
		return "short reply"
	}
	return s.String()
}

// A FileType is an ftype3.
type FileType uint32

// File types.
const (
	TypeReg  FileType = 1
	TypeDir  FileType = 2
	TypeBlk  FileType = 3
	TypeChr  FileType = 4
	TypeLnk  FileType = 5
	TypeSock FileType = 6
	TypeFIFO FileType = 7
)

// IfMode returns the S_IF* bits of a file of type t.
func (t FileType) IfMode() uint32 {
	switch t {
	case TypeReg:
		return syscall.S_IFREG
	case TypeDir:
		return syscall.S_IFDIR
	case TypeBlk:
		return syscall.S_IFBLK
	case TypeChr:
		return syscall.S_IFCHR
	case TypeLnk:
		return syscall.S_IFLNK
	case TypeSock:
		return syscall.S_IFSOCK
	case TypeFIFO:
		return syscall.S_IFIFO
	}
	return 0
}

// A Time is an nfstime3.
type Time struct {
	Sec, Nsec uint32
}

// TimeOf returns t as an nfstime3.
func TimeOf(t time.Time) Time {
	return Time{Sec: uint32(t.Unix()), Nsec: uint32(t.Nanosecond())}
}

// Time returns t as a time.Time.
func (t Time) Time() time.Time { return time.Unix(int64(t.Sec), int64(t.Nsec)) }

// An FH is a file handle (nfs_fh3), at most 64 bytes.
type FH []byte

// MaxFH is the longest NFSv3 file handle.
const MaxFH = 64

// Attr is a file's attributes (fattr3).
type Attr struct {
	Type                FileType
	Mode                uint32
	Nlink               uint32
	UID, GID            uint32
	Size, Used          uint64
	Rdev                [2]uint32 // specdata3: major, minor
	FSID, FileID        uint64
	Atime, Mtime, Ctime Time
}

// WccAttr is the part of a file's attributes that weak cache consistency
// data reports from before an operation.
type WccAttr struct {
	Size         uint64
	Mtime, Ctime Time
}

// Wcc is wcc_data: a directory's or file's attributes before and after an
// operation, each possibly missing.
type Wcc struct {
	Before *WccAttr
	After  *Attr
}

// SetTime says how SETATTR sets a time (time_how).
type SetTime uint32

// Time setting.
const (
	DontChange   SetTime = 0
	ServerTime   SetTime = 1 // the server's clock (utimensat's UTIME_NOW)
	ClientTime   SetTime = 2 // the time given
	createUnchkd         = 0
	createGuard          = 1
)

// Sattr is the attributes to set (sattr3); nil fields are left alone.
type Sattr struct {
	Mode, UID, GID *uint32
	Size           *uint64
	Atime, Mtime   SetTime
	AtimeVal       Time // when Atime is ClientTime
	MtimeVal       Time // when Mtime is ClientTime
}

// Access bits (ACCESS3_*).
const (
	AccessRead    = 0x01
	AccessLookup  = 0x02
	AccessModify  = 0x04
	AccessExtend  = 0x08
	AccessDelete  = 0x10
	AccessExecute = 0x20
)

// Write stability (stable_how).
const (
	Unstable = 0
	DataSync = 1
	FileSync = 2
)

// An Entry is an entry of a directory listing. READDIR leaves Attr and FH
// nil; READDIRPLUS fills them where the server sends them.
type Entry struct {
	FileID uint64
	Name   string
	Cookie uint64
	Attr   *Attr
	FH     FH
}

// FSStat is what FSSTAT reports.
type FSStat struct {
	TBytes, FBytes, ABytes uint64
	TFiles, FFiles, AFiles uint64
}

// FSInfo is what FSINFO reports.
type FSInfo struct {
	RtMax, RtPref, WtMax, WtPref, DtPref uint32
	MaxFileSize                          uint64
	TimeDelta                            Time
	Properties                           uint32
}

// PathConf is what PATHCONF reports.
type PathConf struct {
	LinkMax, NameMax uint32
}
