package locker

import (
	"errors"
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
type FS interface {
	// WriteFile creates name, or truncates it if it exists, and writes data
	// to it, like os.WriteFile.
	WriteFile(name string, data []byte, perm fs.FileMode) error
	// ReadFile returns the whole contents of name, like os.ReadFile.
	ReadFile(name string) ([]byte, error)
	// Link makes newname a hard link to oldname, like os.Link. It must fail
	// with an error satisfying fs.ErrExist if newname exists, and must never
	// replace it.
	Link(oldname, newname string) error
	// Stat describes name, following symbolic links, like os.Stat.
	Stat(name string) (FileInfo, error)
	// Chtimes sets the access and modification times of name, like
	// os.Chtimes.
	Chtimes(name string, atime, mtime time.Time) error
	// Rename renames oldname to newname, replacing newname, like os.Rename.
	Rename(oldname, newname string) error
	// Remove removes the file name, like os.Remove.
	Remove(name string) error
}

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
