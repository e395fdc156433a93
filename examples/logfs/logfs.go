// Package logfs is an example of a backend of your own, and of checking it
// with the conformance suite: a decorator that logs every filesystem call
// the lock makes, with its result, over any other backend, in the manner of
// afero's decorators. Its test, logfs_test.go, runs the whole suite on it
// over backend-posix, in temporary directories or, with -dir, on a mount
// of your choice:
//
//	go test github.com/nfslock/nfslock/examples/logfs -v
//	go test github.com/nfslock/nfslock/examples/logfs -v -args -dir /mnt/shared -log
//
// A backend for a filesystem reached some other way (an object store, a
// FUSE-less client library) has the same shape: the seven methods of
// locker.FS, errors that satisfy errors.Is with fs.ErrExist and
// fs.ErrNotExist, and, optionally, locker.ProcessChecker and
// locker.Watcher.
package logfs

import (
	"errors"
	"io/fs"
	"log/slog"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// FS is a locker.FS that logs every call to another one.
type FS struct {
	inner locker.FS
	log   *slog.Logger
}

var (
	_ locker.FS             = (*FS)(nil)
	_ locker.ProcessChecker = (*FS)(nil)
	_ locker.Watcher        = (*FS)(nil)
)

// New returns an FS that forwards every call to inner and logs it to
// logger at debug level: the call, its names, and its error if it failed.
func New(inner locker.FS, logger *slog.Logger) *FS {
	return &FS{inner: inner, log: logger}
}

// logged logs one call and returns its error unchanged, so that the lock
// can still test it with errors.Is.
func (f *FS) logged(op string, err error, args ...any) error {
	if err != nil {
		args = append(args, "err", err)
	}
	f.log.Debug(op, args...)
	return err
}

func (f *FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	return f.logged("WriteFile", f.inner.WriteFile(name, data, perm), "name", name, "bytes", len(data))
}

func (f *FS) ReadFile(name string) ([]byte, error) {
	data, err := f.inner.ReadFile(name)
	return data, f.logged("ReadFile", err, "name", name, "bytes", len(data))
}

func (f *FS) Link(oldname, newname string) error {
	return f.logged("Link", f.inner.Link(oldname, newname), "old", oldname, "new", newname)
}

func (f *FS) Stat(name string) (locker.FileInfo, error) {
	fi, err := f.inner.Stat(name)
	return fi, f.logged("Stat", err, "name", name, "links", fi.Links, "mtime", fi.ModTime)
}

func (f *FS) Chtimes(name string, atime, mtime time.Time) error {
	return f.logged("Chtimes", f.inner.Chtimes(name, atime, mtime), "name", name, "mtime", mtime)
}

func (f *FS) Rename(oldname, newname string) error {
	return f.logged("Rename", f.inner.Rename(oldname, newname), "old", oldname, "new", newname)
}

func (f *FS) Remove(name string) error {
	return f.logged("Remove", f.inner.Remove(name), "name", name)
}

// ProcessAlive asks the inner backend, if it can tell; otherwise it says
// alive, which is what the lock assumes of a backend that cannot.
func (f *FS) ProcessAlive(host string, pid int) (bool, error) {
	pc, ok := f.inner.(locker.ProcessChecker)
	if !ok {
		return true, nil
	}
	alive, err := pc.ProcessAlive(host, pid)
	return alive, f.logged("ProcessAlive", err, "host", host, "pid", pid, "alive", alive)
}

// errNoWatch is Watch's error when the inner backend cannot watch: the lock
// then polls.
var errNoWatch = errors.New("logfs: the inner backend cannot watch a directory")

// Watch passes on the inner backend's watches, if it has any.
func (f *FS) Watch(dir string) (events <-chan struct{}, stop func() error, err error) {
	w, ok := f.inner.(locker.Watcher)
	if !ok {
		return nil, nil, errNoWatch
	}
	events, stop, err = w.Watch(dir)
	return events, stop, f.logged("Watch", err, "dir", dir)
}
