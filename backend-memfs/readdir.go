package memfs

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"

	"github.com/nfslock/nfslock/locker"
)

var (
	_ locker.DirReader = (*Host)(nil)
	_ locker.DirReader = (*FaultFS)(nil)
)

// ReadDirNames returns the names of the entries of the directory dir, in
// name order, like os.File.Readdirnames. It implements locker.DirReader, so
// that a waiting lock can find and remove the claim files of dead
// claimants. Reading a directory needs its owner read bit. If dir does not
// exist the error satisfies errors.Is(err, fs.ErrNotExist); if it is not a
// directory, the error holds syscall.ENOTDIR.
func (h *Host) ReadDirNames(dir string) ([]string, error) { return h.fsys.readDirNames(dir) }

func (fsys *FS) readDirNames(dir string) ([]string, error) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookup(dir)
	switch {
	case err != nil:
	case !n.isDir():
		err = syscall.ENOTDIR
	case !n.readable():
		err = syscall.EACCES
	}
	if err != nil {
		return nil, &os.PathError{Op: "readdirent", Path: dir, Err: err}
	}
	names := make([]string, 0, len(n.entries))
	for name := range n.entries {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// ReadDirNames forwards to the inner filesystem if it is a locker.DirReader,
// unless a fault is pending for OpReadDirNames; a faulty call returns no
// names. If the inner filesystem cannot list directories, it returns an
// error wrapping errors.ErrUnsupported, and a lock using the FaultFS does
// not sweep.
func (f *FaultFS) ReadDirNames(dir string) ([]string, error) {
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
