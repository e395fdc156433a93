package memfs

import (
	"os"
	"slices"
	"syscall"

	"github.com/nfslock/nfslock/locker"
)

var _ locker.DirReader = (*Host)(nil)

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
