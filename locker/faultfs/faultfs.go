package faultfs

import (
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/nfslock/nfslock/locker"
)

var _ locker.FS = (*FS)(nil)

// FS wraps any locker.FS and makes chosen calls fail, the way a network
// filesystem can: Fail makes a call fail without reaching the filesystem,
// LoseReply makes it reach the filesystem and fail anyway (the server did
// the work but its reply was lost). Calls with no fault pending pass through
// unchanged. It passes on the inner filesystem's optional capabilities
// (locker.ProcessChecker, locker.Watcher, locker.DirReader), if it has them.
//
// An FS is safe for concurrent use. Call numbers count calls in the
// order they enter the FS, after the hook (see SetHook) has returned.
type FS struct {
	inner locker.FS

	mu     sync.Mutex
	calls  [numOps]int
	faults []fault
	hook   func(op Op, args ...string)
}

// A fault is a pending failure of call number call of op.
type fault struct {
	op      Op
	call    int
	err     error
	perform bool // perform the call before failing it (a lost reply)
}

// New returns an FS that forwards to inner.
func New(inner locker.FS) *FS { return &FS{inner: inner} }

// Inner returns the wrapped filesystem.
func (f *FS) Inner() locker.FS { return f.inner }

// Fail makes the nth call of op from now on (n = 1: the very next) return
// err without being performed. An n less than 1 counts as 1. A nil err makes
// the call report success without doing anything, as a server that
// acknowledges a request it dropped; ReadFile then returns no data and Stat
// a zero FileInfo.
//
// Several faults may be pending at once. If two target the same call, the
// one registered first decides its outcome, and both are used up.
func (f *FS) Fail(op Op, n int, err error) { f.add(op, n, err, false) }

// LoseReply makes the nth call of op from now on (n = 1: the very next) be
// performed on the inner filesystem and then return err anyway, whatever the
// inner filesystem answered: NFS's lost reply, where for example a link
// succeeds but the client sees an error. An n less than 1 counts as 1.
func (f *FS) LoseReply(op Op, n int, err error) { f.add(op, n, err, true) }

func (f *FS) add(op Op, n int, err error, perform bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{op: op, call: f.count(op) + max(n, 1), err: err, perform: perform})
}

// Calls returns how many times op has been called, faulty calls included.
func (f *FS) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count(op)
}

// count returns the calls of op so far. f.mu must be held.
func (f *FS) count(op Op) int {
	if op < 1 || int(op) >= numOps {
		return 0
	}
	return f.calls[op]
}

// SetHook makes the FS call hook, with the operation and its path
// arguments, at the start of every call, before the call is counted or
// performed. The hook runs on the caller's goroutine and may block, which
// makes it a scheduling point for tests that choose the interleaving of
// several lockers. A nil hook removes it.
func (f *FS) SetHook(hook func(op Op, args ...string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = hook
}

// do runs one call of op: hook, count, then perform it unless a fault says
// otherwise.
func (f *FS) do(op Op, perform func() error, args ...string) error {
	f.mu.Lock()
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		hook(op, args...)
	}

	f.mu.Lock()
	f.calls[op]++
	call := f.calls[op]
	var ft *fault
	f.faults = slices.DeleteFunc(f.faults, func(x fault) bool {
		if x.op != op || x.call != call {
			return false
		}
		if ft == nil {
			ft = &x
		}
		return true
	})
	f.mu.Unlock()

	if ft == nil {
		return perform()
	}
	if ft.perform {
		_ = perform() // the reply is lost, whatever it said
	}
	return ft.err
}

// WriteFile forwards to the inner filesystem unless a fault is pending.
func (f *FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	return f.do(OpWriteFile, func() error { return f.inner.WriteFile(name, data, perm) }, name)
}

// ReadFile forwards to the inner filesystem unless a fault is pending; a
// faulty call returns no data.
func (f *FS) ReadFile(name string) ([]byte, error) {
	var data []byte
	err := f.do(OpReadFile, func() (err error) {
		data, err = f.inner.ReadFile(name)
		return err
	}, name)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Link forwards to the inner filesystem unless a fault is pending.
func (f *FS) Link(oldname, newname string) error {
	return f.do(OpLink, func() error { return f.inner.Link(oldname, newname) }, oldname, newname)
}

// Stat forwards to the inner filesystem unless a fault is pending; a faulty
// call returns a zero FileInfo.
func (f *FS) Stat(name string) (locker.FileInfo, error) {
	var fi locker.FileInfo
	err := f.do(OpStat, func() (err error) {
		fi, err = f.inner.Stat(name)
		return err
	}, name)
	if err != nil {
		return locker.FileInfo{}, err
	}
	return fi, nil
}

// Chtimes forwards to the inner filesystem unless a fault is pending.
func (f *FS) Chtimes(name string, atime, mtime time.Time) error {
	return f.do(OpChtimes, func() error { return f.inner.Chtimes(name, atime, mtime) }, name)
}

// Rename forwards to the inner filesystem unless a fault is pending.
func (f *FS) Rename(oldname, newname string) error {
	return f.do(OpRename, func() error { return f.inner.Rename(oldname, newname) }, oldname, newname)
}

// Remove forwards to the inner filesystem unless a fault is pending.
func (f *FS) Remove(name string) error {
	return f.do(OpRemove, func() error { return f.inner.Remove(name) }, name)
}
