package faultfs

import (
	"errors"
	"fmt"
	"os"

	"github.com/nfslock/nfslock/locker"
)

var (
	_ locker.ProcessChecker = (*FS)(nil)
	_ locker.Watcher        = (*FS)(nil)
	_ locker.DirReader      = (*FS)(nil)
)

// ProcessAlive forwards to the inner filesystem if it is a
// locker.ProcessChecker. Otherwise it reports the process alive, with no
// error: the conservative answer, which never lets a lock be broken because
// its holder merely seems dead. Faults do not apply to ProcessAlive.
func (f *FS) ProcessAlive(host string, pid int) (bool, error) {
	if pc, ok := f.inner.(locker.ProcessChecker); ok {
		return pc.ProcessAlive(host, pid)
	}
	return true, nil
}

// Watch forwards to the inner filesystem if it is a locker.Watcher, so that
// wrapping a backend in an FS keeps its watches. Otherwise it returns an
// error wrapping errors.ErrUnsupported, and a lock using the FS polls.
// Faults and the hook do not apply to Watch: it is not one of the
// filesystem operations a lock makes, but a way to wait for them.
func (f *FS) Watch(dir string) (events <-chan struct{}, stop func() error, err error) {
	w, ok := f.inner.(locker.Watcher)
	if !ok {
		return nil, nil, &os.PathError{Op: "watch", Path: dir, Err: fmt.Errorf("%T cannot watch a directory: %w", f.inner, errors.ErrUnsupported)}
	}
	return w.Watch(dir)
}

// ReadDirNames forwards to the inner filesystem if it is a locker.DirReader,
// unless a fault is pending for OpReadDirNames; a faulty call returns no
// names. If the inner filesystem cannot list directories, it returns an
// error wrapping errors.ErrUnsupported, and a lock using the FS does not
// sweep.
func (f *FS) ReadDirNames(dir string) ([]string, error) {
	dr, ok := f.inner.(locker.DirReader)
	if !ok {
		return nil, &os.PathError{Op: "readdirent", Path: dir, Err: fmt.Errorf("%T cannot list a directory: %w", f.inner, errors.ErrUnsupported)}
	}
	var names []string
	err := f.do(OpReadDirNames, func() (err error) {
		names, err = dr.ReadDirNames(dir)
		return err
	}, dir)
	if err != nil {
		return nil, err
	}
	return names, nil
}
