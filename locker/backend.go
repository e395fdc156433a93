package locker

import (
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// FS is the set of filesystem primitives the lock algorithm needs. It is
// deliberately small, in the spirit of io/fs and afero: a backend for a new
// platform or a test double implements these seven methods and nothing else.
//
// Names are full paths as the locker builds them: the lock path the user gave
// (made absolute by New) and names formed by appending to it.
//
// Errors must satisfy errors.Is(err, fs.ErrExist) when a name already exists
// and errors.Is(err, fs.ErrNotExist) when it does not. A backend marks errors
// that a later attempt may not see again (NFS's "stale file handle", for
// example) with [Transient], so that the locker retries instead of failing.
// A call refused because of what is at a name (a directory where the
// locker removes, links or renames a file; a symbolic link that ReadFile
// does not follow) fails with a *NotRegularError, which the locker reports
// as a foreign object (ErrForeignFile): anyone who can write the directory
// can put such a thing at any of the lock's names.
//
// No method follows a symbolic link at name: the locker never looks at,
// writes, re-dates or waits on anything outside the lock's directory
// through one (see docs/security.md).
type FS interface {
	// WriteFile creates the file name, which must not exist, and writes data
	// to it, like os.WriteFile with O_EXCL added. If anything at all exists
	// at name (a file, a directory, a symbolic link, dangling or not, a
	// FIFO) it fails with an error satisfying fs.ErrExist and leaves it
	// alone: it never writes through a symbolic link, into another file's
	// inode or into a FIFO or device. The locker writes only names of its
	// own (its claim files), and removes what it finds at one before
	// writing it afresh.
	WriteFile(name string, data []byte, perm fs.FileMode) error
	// ReadFile returns the contents of the regular file name, like
	// os.ReadFile, but with three limits, because the locker reads names
	// that anyone who can write the directory may have filled:
	//
	//   - it does not follow a symbolic link at name (O_NOFOLLOW), and it
	//     fails with a *NotRegularError, which satisfies
	//     errors.Is(err, ErrNotRegular), if name is anything but a regular
	//     file: a symbolic link, dangling or not, a directory, a FIFO, a
	//     socket, a device;
	//   - it never blocks on what it finds (it opens with O_NONBLOCK where
	//     the platform has it, and checks the type on the open descriptor
	//     before reading);
	//   - it reads at most MaxClaimLen+1 bytes, and fails with an error
	//     satisfying errors.Is(err, ErrTooLong) if the file is longer than
	//     MaxClaimLen.
	//
	// The locker takes such a file at the lock path for a foreign file
	// (ErrForeignFile): no lock makes it.
	ReadFile(name string) ([]byte, error)
	// Link makes newname a hard link to oldname, like os.Link. It must fail
	// with an error satisfying fs.ErrExist if newname exists, and must never
	// replace it. A symbolic link at oldname is linked itself, not followed
	// (linkat without AT_SYMLINK_FOLLOW). If oldname is a directory it
	// fails with a *NotRegularError.
	Link(oldname, newname string) error
	// Stat describes name, like os.Lstat: a symbolic link at name is
	// described itself, never followed, so that a link put at one of the
	// lock's names cannot make a Stat look at, or wait on, a file
	// elsewhere (a dead mount, a FUSE filesystem that never answers), nor
	// fail with an error of the link's choosing (ELOOP, EACCES, ENOTDIR).
	// Where a network filesystem's client keeps an attribute cache, Stat
	// should ask for the attributes as the server has them, if the
	// platform lets it (the posix backend does, on Linux): a Lock that
	// holds the lock checks, by a Stat of its claim file, that the lock
	// file is still a link to it before it removes the lock file.
	Stat(name string) (FileInfo, error)
	// Chtimes sets the access and modification times of name, like
	// os.Chtimes, but of a symbolic link at name itself, never of the file
	// it points to (utimensat with AT_SYMLINK_NOFOLLOW). (sshfs cannot:
	// its server follows the link; see docs/security.md.)
	Chtimes(name string, atime, mtime time.Time) error
	// Rename renames oldname to newname, replacing newname, like os.Rename.
	// A rename refused because a directory is at one name and not at the
	// other, or a directory that is not empty is at newname, fails with a
	// *NotRegularError.
	Rename(oldname, newname string) error
	// Remove removes the file name, like os.Remove, but never a
	// directory (unlink(2), not rmdir(2)); a symbolic link is removed
	// itself. For a directory it fails with a *NotRegularError.
	Remove(name string) error
}

// MaxClaimLen is the length in bytes of the longest claim name, and so of
// the longest lock file: a claim name is the path of a claim file, and no
// platform accepts a longer path (Windows allows 32767 UTF-16 code units,
// at most 98301 bytes of UTF-8; Linux 4096 bytes, macOS and the BSDs 1024).
// A file at the lock path longer than this cannot be a lock, and ReadFile
// never reads more than a byte beyond it.
const MaxClaimLen = 96 << 10

// ErrNotRegular is the condition of a *NotRegularError: ReadFile found
// something other than a regular file at a name, or a call was refused
// because of what is at a name (see FS).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLong is the error (wrapped, typically in an *fs.PathError) of
// ReadFile for a file longer than MaxClaimLen bytes.
var ErrTooLong = fmt.Errorf("file longer than any claim name (%d bytes)", MaxClaimLen)

// NotRegularError is the error (wrapped, typically in an *fs.PathError) of
// ReadFile for a name that is not a regular file, and of Link, Rename and
// Remove refused because a directory is in the way (see FS). It satisfies
// errors.Is(err, ErrNotRegular).
type NotRegularError struct {
	// Type holds the type bits of what was found, as fs.FileMode has them:
	// fs.ModeSymlink, fs.ModeDir, fs.ModeNamedPipe, fs.ModeSocket,
	// fs.ModeDevice (with fs.ModeCharDevice for a character device), or
	// fs.ModeIrregular for any other kind.
	Type fs.FileMode
	// Err, if not nil, is the system's own error for the refusal (such as
	// EISDIR from unlink(2)), kept for errors.Is and errors.As.
	Err error
}

func (e *NotRegularError) Error() string {
	t := e.Type & fs.ModeType
	var kind string
	switch {
	case t&fs.ModeSymlink != 0:
		kind = "a symbolic link"
	case t&fs.ModeDir != 0:
		kind = "a directory"
	case t&fs.ModeNamedPipe != 0:
		kind = "a FIFO"
	case t&fs.ModeSocket != 0:
		kind = "a socket"
	case t&fs.ModeCharDevice != 0:
		kind = "a character device"
	case t&fs.ModeDevice != 0:
		kind = "a block device"
	default:
		kind = "an irregular file"
	}
	if e.Err != nil {
		return kind + ", not a regular file (" + e.Err.Error() + ")"
	}
	return kind + ", not a regular file"
}

// Is reports whether target is ErrNotRegular.
func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// Unwrap returns the system's own error, if any.
func (e *NotRegularError) Unwrap() error { return e.Err }

// FileInfo is what the locker needs to know of a file.
type FileInfo struct {
	// ModTime is the file's modification time. For a lock file it is the
	// moment the lock expires.
	ModTime time.Time
	// Links is the number of hard links to the file. Zero means the
	// filesystem does not report link counts.
	Links uint64
	// Size is the file's length in bytes.
	Size int64
	// IsDir reports whether the name is a directory.
	IsDir bool
}

// ProcessChecker is an optional capability of an FS: it tells whether a
// process on a given host is alive. The locker asks only about processes on
// its own host (as flufl.lock does), so a backend for a real machine may
// ignore host. It is used by [Lock.State] to tell a stale lock (its holder
// is dead) from one whose holder is merely slow.
type ProcessChecker interface {
	// ProcessAlive reports whether process pid on host is running. A
	// process that exists but cannot be signalled counts as alive.
	ProcessAlive(host string, pid int) (bool, error)
}

// InfoReader is an optional capability of an FS: it reads a file and
// describes it in one look. ReadFileInfo returns what ReadFile returns,
// with the same errors, and the attributes Stat would return (as fresh
// from a network filesystem's server as Stat's) of the very file it read,
// by its open descriptor, not of whatever is at name a moment later. A
// Lock reads the lock file to learn its holder and its expiry; with this
// it makes one round trip fewer through a network filesystem's client than
// with ReadFile and then Stat, and never pairs one file's contents with
// another's attributes.
type InfoReader interface {
	ReadFileInfo(name string) ([]byte, FileInfo, error)
}

// DirReader is an optional capability of an FS: it lists a directory. A
// Lock uses it, while it waits, to find and remove the claim files that
// dead claimants left beside the lock file (see [WithSweep]). Without it,
// such files stay until someone removes them.
type DirReader interface {
	// ReadDirNames returns the names (not paths) of the entries of dir,
	// in any order, without "." and "..". It must fail, not block, if dir
	// is not a directory (a FIFO, say).
	ReadDirNames(dir string) ([]string, error)
}

// ErrTransient marks a filesystem error that may not recur on the next
// attempt, such as ESTALE on NFS. Backends wrap such errors with [Transient];
// the locker retries the operation instead of failing.
var ErrTransient = errors.New("transient filesystem error")

// Transient wraps err so that errors.Is(err, ErrTransient) is true while the
// original error stays reachable through errors.Is and errors.As. It returns
// nil if err is nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }
func (e *transientError) Is(target error) bool {
	return target == ErrTransient
}

// Watcher is an optional capability of an FS: it reports changes to the
// entries of a directory, so that a Lock waiting for a busy lock wakes as
// soon as the lock file is removed instead of at its next poll. A watcher
// sees only changes made through the same kernel or process (inotify does
// not see other NFS clients), so the Lock keeps polling as well: the
// watcher shortens waits, it never lengthens them.
type Watcher interface {
	// Watch starts watching dir. After it returns, every creation, removal
	// or rename of an entry of dir sends on events without blocking (events
	// may be coalesced, and may be reported for any entry). stop ends the
	// watch and releases its resources; events is not closed.
	Watch(dir string) (events <-chan struct{}, stop func() error, err error)
}

// EntryWatcher is an optional capability of a backend: it watches one
// entry of a directory come and go. A Lock uses it, where the backend has
// it, in place of Watcher: a waiter then wakes when the lock file goes, and
// not each time a claim file beside it comes or goes, nor when the next
// holder's lock file comes; and a waiter that has no use for wake-ups for
// a while (see the locker's wait.go) stops them without giving up its
// watch.
type EntryWatcher interface {
	// WatchEntry starts a watch of the entry called name in the directory
	// dir, reporting departures. It fails if dir is not a directory, and
	// if name is not a single path element.
	WatchEntry(dir, name string) (EntryWatch, error)
}

// An EntryWatch is a watch of one directory entry, from EntryWatcher.
type EntryWatch interface {
	// Events receives a notification whenever the entry changes as Report
	// last said (at first, whenever it departs), and whenever the
	// directory itself is removed or renamed. A notification not yet
	// received absorbs later ones. One may come for other reasons (a
	// watch that lost track of events sends one, to be safe), but none
	// is ever missing.
	Events() <-chan struct{}
	// Report says which changes of the entry Events reports from now on.
	Report(which EntryEvents) error
	// Stop ends the watch and releases its resources; Events is not
	// closed. Calling it again returns the same result.
	Stop() error
}

// EntryEvents says which changes of its entry an EntryWatch reports.
type EntryEvents int

const (
	// ReportDepartures reports the entry's removal, or its renaming away.
	ReportDepartures EntryEvents = iota
	// ReportArrivals reports the entry's creation, a hard link made at
	// its name, or a rename into place.
	ReportArrivals
	// ReportNothing reports no change of the entry: only the end of the
	// directory itself.
	ReportNothing
)
