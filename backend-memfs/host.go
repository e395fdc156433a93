package memfs

import (
	"context"
	"io/fs"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nfslock/nfslock/locker"
)

var (
	_ locker.FS             = (*Host)(nil)
	_ locker.ProcessChecker = (*Host)(nil)
)

// Host is a simulated machine that mounts an FS: the locker.FS to give
// locker.New. Several hosts of one FS see the same files, as NFS clients of
// one server do, and each has its own process table (see Spawn) and its own
// clock offset (see SetClockOffset).
//
// Host's methods behave like the os functions of the same names and return
// the same kinds of error: *os.PathError or *os.LinkError holding a
// syscall.Errno. Each is atomic. A Host is safe for concurrent use.
type Host struct {
	fsys   *FS
	name   string
	offset atomic.Int64 // time.Duration added to the server's clock

	// Guarded by fsys.mu.
	lastPID int
	procs   map[int]*Process
}

// Host returns the host called name, creating it on first use: every call
// with the same name returns the same *Host.
func (fsys *FS) Host(name string) *Host {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	h, ok := fsys.hosts[name]
	if !ok {
		h = &Host{fsys: fsys, name: name, lastPID: firstPID - 1, procs: make(map[int]*Process)}
		fsys.hosts[name] = h
	}
	return h
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// FS returns the filesystem the host mounts.
func (h *Host) FS() *FS { return h.fsys }

// SetClockOffset makes the host's clock read d ahead of the server's (behind,
// if d is negative), to simulate a host whose clock is wrong. It takes effect
// at once for every clock Clock has returned.
func (h *Host) SetClockOffset(d time.Duration) { h.offset.Store(int64(d)) }

// ClockOffset returns the offset set by SetClockOffset, zero by default.
func (h *Host) ClockOffset() time.Duration { return time.Duration(h.offset.Load()) }

// Clock returns the host's view of the FS's clock: its Now is the server's
// time plus the host's clock offset, and its Sleep is the server clock's
// Sleep, so advancing the FS's Clock wakes sleepers on every host.
func (h *Host) Clock() locker.Clock { return hostClock{h} }

type hostClock struct{ h *Host }

func (c hostClock) Now() time.Time { return c.h.fsys.clock.Now().Add(c.h.ClockOffset()) }

func (c hostClock) Sleep(ctx context.Context, d time.Duration) error {
	return c.h.fsys.clock.Sleep(ctx, d)
}

// WriteFile creates name and writes data to it, like os.WriteFile with
// O_EXCL, as locker.FS requires: if anything exists at name, a symbolic
// link included, it fails with syscall.EEXIST and leaves it alone. The
// file's modification time is the server's.
func (h *Host) WriteFile(name string, data []byte, perm fs.FileMode) error {
	return h.fsys.writeNew(name, data, perm)
}

// ReadFile returns the contents of the regular file name, as locker.FS
// requires: a symbolic link is not followed, and anything but a regular
// file fails with a *locker.NotRegularError; a file longer than
// locker.MaxClaimLen fails with locker.ErrTooLong. Both come wrapped in an
// *os.PathError.
func (h *Host) ReadFile(name string) ([]byte, error) { return h.fsys.readClaim(name) }

// Link makes newname a hard link to oldname, like os.Link. If newname exists
// it fails with an error satisfying fs.ErrExist (syscall.EEXIST) and leaves
// newname alone; if oldname does not exist, with syscall.ENOENT; if oldname
// is a directory, with a *locker.NotRegularError wrapping syscall.EPERM, as
// locker.FS asks. A symbolic link at oldname is linked itself.
func (h *Host) Link(oldname, newname string) error {
	return dirRefusal(h.fsys.Link(oldname, newname), syscall.EPERM)
}

// Stat describes name, like os.Lstat (a symbolic link is described itself,
// not followed, as locker.FS asks), with its true link count (1 with
// WithoutLinkCounts) and its modification time (truncated with
// WithTimeGranularity).
func (h *Host) Stat(name string) (locker.FileInfo, error) {
	fi, _, err := h.fsys.LstatIfPossible(name)
	if err != nil {
		return locker.FileInfo{}, err
	}
	info := locker.FileInfo{
		ModTime: fi.ModTime(),
		Links:   fi.Sys().(*Stat).Nlink,
		Size:    fi.Size(),
		IsDir:   fi.IsDir(),
	}
	if h.fsys.noLinks {
		info.Links = 1
	}
	if h.fsys.gran > 0 {
		info.ModTime = info.ModTime.Truncate(h.fsys.gran)
	}
	return info, nil
}

// Chtimes sets the access and modification times of name, like os.Chtimes,
// but of a symbolic link at name itself, as locker.FS requires.
func (h *Host) Chtimes(name string, atime, mtime time.Time) error {
	return h.fsys.chtimes(name, atime, mtime, false)
}

// Rename renames oldname to newname, atomically replacing a file at newname,
// like os.Rename. See FS.Rename. A rename that a directory at one of the
// names refuses (syscall.EISDIR, ENOTDIR, ENOTEMPTY) fails with a
// *locker.NotRegularError wrapping the errno, as locker.FS asks.
func (h *Host) Rename(oldname, newname string) error {
	return dirRefusal(h.fsys.Rename(oldname, newname), syscall.EISDIR, syscall.ENOTDIR, syscall.ENOTEMPTY)
}

// Remove removes the file name, like os.Remove, but never a directory, as
// unlink(2) does: the locker removes only files. For a directory it fails
// with a *locker.NotRegularError wrapping syscall.EISDIR, as locker.FS
// asks.
func (h *Host) Remove(name string) error { return dirRefusal(h.fsys.removeFile(name), syscall.EISDIR) }

// dirRefusal returns err, an *os.PathError or *os.LinkError, with its errno
// wrapped in a *locker.NotRegularError for a directory if it is one of
// errnos: the ones by which the call says that a directory is in the way.
func dirRefusal(err error, errnos ...syscall.Errno) error {
	refused := func(e error) error {
		if errno, ok := e.(syscall.Errno); ok && slices.Contains(errnos, errno) {
			return &locker.NotRegularError{Type: fs.ModeDir, Err: errno}
		}
		return e
	}
	switch e := err.(type) {
	case *os.PathError:
		e.Err = refused(e.Err)
	case *os.LinkError:
		e.Err = refused(e.Err)
	}
	return err
}
